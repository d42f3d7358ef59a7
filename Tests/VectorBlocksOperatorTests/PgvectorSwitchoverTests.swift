import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Switchover OpsRequests against real PostgreSQL (a primary and two hot standbys standing for a KubeSim cluster's
/// pods, as in PgvectorFailoverTests): under a write load through the read-write Service, to a named standby and
/// back, with a probe that writes a marker through every server's own address the whole time.
@Suite("pgvector switchover against real servers", .serialized)
struct PgvectorSwitchoverTests {
    typealias Failover = PgvectorFailoverTests
    static func pod(_ ordinal: Int) -> String { Failover.pod(ordinal) }

    @Test func switchoverToANamedStandbyAndBackLosesNothingAndNeverHasTwoWritableServers() async throws {
        let servers = try await Self.startServers()
        let addressing = Self.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await Self.createCluster(client, replicas: 3)

                let writer = LedgerWriter()
                let probe = WritableProbe()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await writer.run(client: client, servers: servers) }
                    group.addTask { try await probe.run(servers: servers) }
                    _ = try await eventually("writes through the read-write Service") { await writer.committed.count >= 20 ? true : nil }

                    for (from, to) in [(0, 2), (2, 0)] {
                        let before = await writer.committed.count
                        let started = ContinuousClock.now
                        async let container: Void = Self.restartWhenFenced(
                            from, servers: servers, primaryPort: servers[to].port, kubeSim: kubeSim, client: client)
                        let ops = try await Self.requestSwitchover(to: Self.pod(to), client: client)
                        let done = try await Self.waitForEnd(of: ops, client: client)
                        try await container
                        #expect(done.status?.phase == .succeed, "\(done.status?.conditions ?? [])")
                        #expect(done.status?.progress == "2/2")
                        #expect(try await Failover.recordedPrimary(client) == Self.pod(to))
                        try await Failover.waitForRoles(client, primary: Self.pod(to), ready: [0, 1, 2])
                        _ = try await eventually("writes through the read-write Service after the switch to \(Self.pod(to))") { () -> Bool? in
                            await writer.committed.count >= before + 20 ? true : nil
                        }
                        print("pgvector switchover \(Self.pod(from)) → \(Self.pod(to)): done in \(ContinuousClock.now - started)")
                        // The former primary streams from the new one.
                        _ = try await eventually("\(Self.pod(from)) streaming from \(Self.pod(to))") { () -> Bool? in
                            try await servers[from].psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                                == "\(servers[to].port)" ? true : nil
                        }
                    }
                    await writer.stop()
                    await probe.stop()
                    try await group.waitForAll()
                }

                let primary = servers[0]
                let committed = await writer.committed
                let stored = Set(try await primary.psql("SELECT id FROM ledger").split(separator: "\n").compactMap { Int($0) })
                let lost = committed.filter { !stored.contains($0) }
                #expect(lost.isEmpty, "committed writes lost in the switchovers: \(lost)")
                let markers = await probe.accepted
                let storedMarkers = Set(try await primary.psql("SELECT id FROM markers").split(separator: "\n").compactMap { Int($0) })
                #expect(markers.allSatisfy { storedMarkers.contains($0.id) }, "markers a server accepted are gone")
                // Never two writable servers: the server that accepted markers changed only with each switchover
                // (writable together, they would take turns), and a marker a former primary took after the switch
                // would have diverged and been rewound away: missing above.
                let writers = markers.sorted { $0.id < $1.id }.map(\.server).reduce(into: [Int]()) { runs, server in
                    if runs.last != server { runs.append(server) }
                }
                #expect(writers == [0, 2, 0], "the servers that accepted markers, in turn: \(writers)")
                print("pgvector switchover: \(committed.count) writes committed, \(lost.count) lost; \(markers.count) markers, writable in turn: \(writers)")
                let reasons = try await client.list(CoreV1.Event.self, namespace: "default").items.compactMap(\.reason)
                #expect(reasons.contains("SwitchoverStarted"))
                #expect(reasons.contains("Promoted"))
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }

    /// A standby whose WAL receiver is not streaming could be missing committed transactions: the request fails
    /// with what to do, and nothing changes.
    @Test func aSwitchoverToAStandbyThatDoesNotStreamFailsAndChangesNothing() async throws {
        let first = try await PostgresServer.start()
        let servers = [first, try await PostgresServer.startStandby(of: first)]
        let addressing = Self.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await Self.createCluster(client, replicas: 2)
                // The standby stops streaming: it still points at the primary (so the operator, which re-points
                // standbys that follow another server, leaves it alone), but as a role the primary does not have.
                let upstream = try await servers[1].psql("SHOW primary_conninfo")
                let refused = (upstream + " user=no_such_role").replacingOccurrences(of: "'", with: "''")
                try await servers[1].psql("ALTER SYSTEM SET primary_conninfo = '\(refused)'")
                try await servers[1].psql("SELECT pg_reload_conf()")
                _ = try await eventually("the standby's WAL receiver stopped streaming") { () -> Bool? in
                    try await servers[1].psql("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") == "0" ? true : nil
                }
                for instance in [Self.pod(1), "*"] {
                    let ops = try await Self.requestSwitchover(to: instance, client: client)
                    let done = try await Self.waitForEnd(of: ops, client: client)
                    #expect(done.status?.phase == .failed)
                    let message = done.status?.conditions?.first { $0.type == "Failed" }?.message ?? ""
                    let expected =
                        instance == "*"
                        ? "spec.switchover[0].instanceName: no ready standby is streaming from the primary \(Self.pod(0))"
                        : "spec.switchover[0].instanceName: \(Self.pod(1)) is not a streaming standby of the primary \(Self.pod(0)) (its WAL receiver is not streaming)"
                    #expect(message.hasPrefix(expected), "\(message)")
                }
                #expect(try await Failover.recordedPrimary(client) == Self.pod(0))
                #expect(try await servers[0].psql("SELECT pg_is_in_recovery()") == "f")
                // The lock comes off just after the request's Failed status is written.
                _ = try await eventually("the failed request to release the Cluster") { () -> Bool? in
                    let cluster = try await client.get(Cluster.self, name: Failover.cluster, namespace: "default")
                    return cluster.metadata?.annotations?[OpsRequestPlan.lockAnnotation] == nil ? true : nil
                }
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }

    // MARK: Helpers

    /// A primary with `wal_log_hints` (the addon sets it, pg_rewind needs it) and the tables, and two standbys.
    static func startServers(standbys: Int = 2) async throws -> [PostgresServer] {
        let first = try await PostgresServer.start()
        try await first.psql("ALTER SYSTEM SET wal_log_hints = on")
        try await first.stop()
        try await first.startProcess()
        try await first.psql("CREATE TABLE ledger (id bigint PRIMARY KEY)")
        try await first.psql("CREATE TABLE markers (id bigint PRIMARY KEY, server int NOT NULL)")
        var servers = [first]
        for _ in 0..<standbys { servers.append(try await PostgresServer.startStandby(of: first)) }
        return servers
    }

    static func addressing(_ servers: [PostgresServer]) -> PodAddressing {
        let ports = Dictionary(uniqueKeysWithValues: servers.enumerated().map { ($0.offset, $0.element.port) })
        return PodAddressing { pod, _ in EngineComponent.ordinal(of: pod).flatMap { ports[$0] }.map { ("127.0.0.1", $0) } }
    }

    static func createCluster(_ client: KubeClient, replicas: Int32, synchronous: Int32? = nil) async throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: Failover.cluster)
        cluster.spec.componentSpecs[0].replicas = replicas
        cluster.spec.componentSpecs[0].replication = ComponentReplication(
            failoverDelaySeconds: 0, synchronous: synchronous.map { SynchronousReplication(number: $0) })
        _ = try await client.create(cluster)
        _ = try await waitForPhase(.running, Failover.cluster, client: client)
        _ = try await eventually("pod 0 recorded as the primary") { try await Failover.recordedPrimary(client) == pod(0) ? true : nil }
        try await Failover.waitForRoles(client, primary: pod(0), ready: Set(0..<Int(replicas)))
    }

    static func requestSwitchover(to instance: String, client: KubeClient) async throws -> OpsRequest {
        try await client.create(
            OpsRequest(
                metadata: .init(generateName: "\(Failover.cluster)-switchover-", namespace: "default"),
                spec: OpsRequestSpec(
                    clusterRef: Failover.cluster, type: .switchover, switchover: [.init(componentName: "postgresql", instanceName: instance)])))
    }

    static func waitForEnd(of ops: OpsRequest, client: KubeClient) async throws -> OpsRequest {
        let name = ops.metadata?.name ?? ""
        do {
            return try await eventually("OpsRequest \(name) to end") { () -> OpsRequest? in
                let current = try await client.get(OpsRequest.self, name: name, namespace: "default")
                return [.succeed, .failed].contains(current.status?.phase) ? current : nil
            }
        } catch {
            let current = try? await client.get(OpsRequest.self, name: name, namespace: "default")
            let cluster = try? await client.get(Cluster.self, name: Failover.cluster, namespace: "default")
            throw TestSetupError(
                "\(error); the request's status: \(String(describing: current?.status)); the Cluster's annotations: \(String(describing: cluster?.metadata?.annotations)), status: \(String(describing: cluster?.status))"
            )
        }
    }

    /// The kubelet's part when the operator fences pod `ordinal`: its container's preStop shuts the server down
    /// (fast), and the pod the StatefulSet makes again starts it through the addon's setup script, not ready until
    /// the server accepts connections.
    static func restartWhenFenced(
        _ ordinal: Int, servers: [PostgresServer], primaryPort: Int, kubeSim: KubeSimServer, client: KubeClient
    ) async throws {
        let name = pod(ordinal)
        let uid = try await client.get(CoreV1.Pod.self, name: name, namespace: "default").metadata?.uid
        _ = try await eventually("\(name) fenced", every: .milliseconds(20)) { () -> Bool? in
            let current = try? await client.get(CoreV1.Pod.self, name: name, namespace: "default")
            return current == nil || current?.metadata?.uid != uid || current?.metadata?.deletionTimestamp != nil ? true : nil
        }
        try await servers[ordinal].stop()
        _ = try await eventually("\(name) made again") { () -> Bool? in
            let current = try? await client.get(CoreV1.Pod.self, name: name, namespace: "default")
            return current.map { $0.metadata?.uid != uid && $0.metadata?.deletionTimestamp == nil } == true ? true : nil
        }
        try await kubeSim.setPodReady(false, name)
        let run = try await Failover.restartWithSetupScript(servers[ordinal], ordinal: ordinal, primaryPort: primaryPort, client: client)
        #expect(try await servers[ordinal].psql("SELECT pg_is_in_recovery()") == "t", "\(run.output)")
        try await kubeSim.setPodReady(true, name)
    }
}

/// Writes a marker through every server's own address, one after another, keeping those a server accepted: which
/// server was writable when, whatever the Services say.
actor WritableProbe {
    struct Marker: Sendable {
        var id: Int
        var server: Int
    }

    private(set) var accepted: [Marker] = []
    private var stopped = false

    func stop() { stopped = true }

    func run(servers: [PostgresServer]) async throws {
        var next = 1
        while !stopped {
            for (index, server) in servers.enumerated() {
                let id = next
                next += 1
                if (try? await server.psql("INSERT INTO markers VALUES (\(id), \(index))")) != nil {
                    accepted.append(Marker(id: id, server: index))
                }
            }
            // Pacing, not synchronisation: the probe shares two cores with the servers and the operator.
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
