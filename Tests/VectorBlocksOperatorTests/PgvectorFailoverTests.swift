import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// Failover of a pgvector component against real PostgreSQL: a primary and two hot standbys stand for the pods of a
/// KubeSim cluster. The primary is killed with SIGKILL under a steady write load through the read-write Service; the
/// operator promotes the standby that received the most WAL, moves the role label, re-points the other standby, and
/// the old primary, started again by the addon's own setup script with the pod's environment, rejoins as a standby
/// on the new timeline.
@Suite("pgvector failover against real servers", .serialized)
struct PgvectorFailoverTests {
    static let cluster = "ha"
    static func pod(_ ordinal: Int) -> String { "\(cluster)-postgresql-\(ordinal)" }

    @Test func killedPrimaryIsReplacedAndRejoinsAsAStandby() async throws {
        let first = try await PostgresServer.start()
        // pg_rewind, which brings a former primary back, needs hint-bit changes in the WAL; and a standby that
        // reconnects (re-pointed, or rejoining) needs the WAL since it left, which the test's CHECKPOINTs would
        // otherwise recycle. The addon sets both; the standbys' clones carry them.
        try await first.psql("ALTER SYSTEM SET wal_log_hints = on")
        try await first.psql("ALTER SYSTEM SET wal_keep_size = '1GB'")
        try await first.stop()
        try await first.startProcess()
        try await first.psql("CREATE TABLE ledger (id bigint PRIMARY KEY)")
        let servers = [first, try await PostgresServer.startStandby(of: first), try await PostgresServer.startStandby(of: first)]
        let ports = Dictionary(uniqueKeysWithValues: servers.enumerated().map { ($0.offset, $0.element.port) })
        let addressing = PodAddressing { pod, _ in
            EngineComponent.ordinal(of: pod).flatMap { ports[$0] }.map { ("127.0.0.1", $0) }
        }
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                var cluster = try exampleCluster("pgvector-cluster.yaml", name: Self.cluster)
                cluster.spec.componentSpecs[0].replicas = 3
                cluster.spec.componentSpecs[0].replication = ComponentReplication(failoverDelaySeconds: 0)
                _ = try await client.create(cluster)
                _ = try await waitForPhase(.running, Self.cluster, client: client)
                _ = try await eventually("pod 0 recorded as the primary") { try await Self.recordedPrimary(client) == Self.pod(0) ? true : nil }
                try await Self.waitForRoles(client, primary: Self.pod(0))

                let writer = LedgerWriter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await writer.run(client: client, servers: servers) }
                    _ = try await eventually("writes through the read-write Service") { await writer.committed.count >= 20 ? true : nil }

                    try await first.kill()
                    try await kubeSim.setPodReady(false, Self.pod(0))
                    let killedAt = await writer.committed.count

                    let promoted = try await eventually("a standby recorded as the primary") { () -> String? in
                        let primary = try await Self.recordedPrimary(client)
                        return primary != Self.pod(0) ? primary : nil
                    }
                    let promotedOrdinal = try #require(EngineComponent.ordinal(inPodName: promoted))
                    let newPrimary = servers[promotedOrdinal]
                    let otherStandby = servers[promotedOrdinal == 1 ? 2 : 1]
                    // Recorded first, promoted next: the compare-and-swap comes before the promotion.
                    _ = try await eventually("the recorded standby promoted") { () -> Bool? in
                        try await newPrimary.psql("SELECT pg_is_in_recovery()") == "f" ? true : nil
                    }
                    try await Self.waitForRoles(client, primary: Self.pod(promotedOrdinal), ready: [1, 2])
                    _ = try await eventually("writes through the read-write Service again") { () -> Bool? in
                        await writer.committed.count >= killedAt + 20 ? true : nil
                    }
                    // The other standby was re-pointed at the new primary: it streams from it.
                    _ = try await eventually("the other standby streaming from the new primary") { () -> Bool? in
                        try await otherStandby.psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                            == "\(newPrimary.port)" ? true : nil
                    }
                    let environment = try await client.get(
                        CoreV1.ConfigMap.self, name: "\(Self.cluster)-postgresql-env", namespace: "default")
                    #expect(environment.data?[PrimaryDesignation.environmentKey] == Self.pod(promotedOrdinal))

                    // The kubelet restarts the killed container: the addon's script, with the pod's environment.
                    let rejoined = try await Self.restartWithSetupScript(first, ordinal: 0, primaryPort: newPrimary.port, client: client)
                    #expect(try await first.psql("SELECT pg_is_in_recovery()") == "t", "\(rejoined.output)")
                    #expect(rejoined.output.contains("rewinding it onto \(Self.pod(promotedOrdinal))"), "\(rejoined.output)")
                    let timeline = try await eventually("the old primary streaming on the new timeline") { () -> Int? in
                        try await newPrimary.psql("CHECKPOINT")
                        let received = try await first.psql("SELECT received_tli FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                        let current = try await newPrimary.psql("SELECT timeline_id FROM pg_control_checkpoint()")
                        return !received.isEmpty && received == current ? Int(current) : nil
                    }
                    #expect(timeline >= 2)
                    let uid = try await client.get(CoreV1.Pod.self, name: Self.pod(0), namespace: "default").metadata?.uid
                    try await kubeSim.setPodReady(true, Self.pod(0))
                    try await Self.waitForRoles(client, primary: Self.pod(promotedOrdinal), ready: [0, 1, 2])
                    // A standby that follows the primary is not fenced.
                    #expect(try await client.get(CoreV1.Pod.self, name: Self.pod(0), namespace: "default").metadata?.uid == uid)

                    await writer.stop()
                    try await group.waitForAll()
                }

                let committed = await writer.committed
                let promotedOrdinal = try #require(EngineComponent.ordinal(inPodName: try await Self.recordedPrimary(client) ?? ""))
                let newPrimary = servers[promotedOrdinal]
                let stored = Set(try await newPrimary.psql("SELECT id FROM ledger").split(separator: "\n").compactMap { Int($0) })
                let lost = committed.filter { !stored.contains($0) }
                print("pgvector failover: \(committed.count) writes committed, \(lost.count) lost in asynchronous replication")
                let maximum = try await newPrimary.psql("SELECT max(id) FROM ledger")
                for server in servers where server.port != newPrimary.port {
                    _ = try await eventually("every row on the standby on \(server.port)") { () -> Bool? in
                        if try await server.psql("SELECT max(id) FROM ledger") == maximum { return true }
                        // What the standby shows, for the timeout's message: how far it got and where it streams from.
                        let state = try await server.psql(
                            """
                            SELECT max(id)::text || ' replayed to ' || pg_last_wal_replay_lsn()::text || ', receiver: '
                                || coalesce((SELECT status || ' from port ' || sender_port || ' on timeline ' || received_tli
                                             FROM pg_stat_wal_receiver), 'none')
                            FROM ledger
                            """)
                        throw TestSetupError("standby at \(state); the primary on \(newPrimary.port) at \(maximum); its log:\n\(server.recentLog())")
                    }
                }
                let events = try await client.list(CoreV1.Event.self, namespace: "default").items.compactMap(\.reason)
                #expect(events.contains("FailoverStarted"))
                #expect(events.contains("Promoted"))
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }

    /// An operator that recorded the new primary and died before promoting it: the next one finds the recorded
    /// primary still a standby and finishes the promotion. A write of the status from the stale object, as a second
    /// operator would make, is refused.
    @Test func theNextOperatorFinishesAPromotionItsPredecessorRecorded() async throws {
        let first = try await PostgresServer.start()
        let second = try await PostgresServer.startStandby(of: first)
        let servers = [first, second]
        let ports = [0: first.port, 1: second.port]
        let addressing = PodAddressing { pod, _ in
            EngineComponent.ordinal(of: pod).flatMap { ports[$0] }.map { ("127.0.0.1", $0) }
        }
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let before = RunningOperator(client: client, podAddressing: addressing)
                var cluster = try exampleCluster("pgvector-cluster.yaml", name: Self.cluster)
                cluster.spec.componentSpecs[0].replicas = 2
                _ = try await client.create(cluster)
                _ = try await waitForPhase(.running, Self.cluster, client: client)
                _ = try await eventually("pod 0 recorded as the primary") { try await Self.recordedPrimary(client) == Self.pod(0) ? true : nil }
                try await Self.waitForRoles(client, primary: Self.pod(0), ready: [0, 1])
                await before.stop()

                try await first.kill()
                try await kubeSim.setPodReady(false, Self.pod(0))
                // What the stopped operator's election wrote before it died: the compare-and-swap on the status.
                var stored = try await client.get(Cluster.self, name: Self.cluster, namespace: "default")
                stored.status?.components?["postgresql"]?.primary = Self.pod(1)
                _ = try await client.updateStatus(stored)
                // A second writer holding the same (now stale) object loses.
                stored.status?.components?["postgresql"]?.primary = Self.pod(0)
                do {
                    _ = try await client.updateStatus(stored)
                    Issue.record("a status write from a stale object was accepted")
                } catch let error as KubeAPIError {
                    #expect(error.isConflict, "\(error)")
                }
                #expect(try await Self.recordedPrimary(client) == Self.pod(1))
                #expect(try await second.psql("SELECT pg_is_in_recovery()") == "t")

                let after = RunningOperator(client: client, podAddressing: addressing)
                _ = try await eventually("the recorded standby promoted by the next operator") { () -> Bool? in
                    try await second.psql("SELECT pg_is_in_recovery()") == "f" ? true : nil
                }
                try await Self.waitForRoles(client, primary: Self.pod(1), ready: [1])
                try await second.psql("CREATE TABLE after_promotion (id int)")
                let reasons = try await client.list(CoreV1.Event.self, namespace: "default").items.compactMap(\.reason)
                #expect(reasons.contains("Promoted"))
                #expect(!reasons.contains("FailoverStarted"), "the next operator promotes what was recorded; it does not elect again")
                await after.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }

    static func recordedPrimary(_ client: KubeClient) async throws -> String? {
        try await client.get(Cluster.self, name: cluster, namespace: "default").status?.components?["postgresql"]?.primary
    }

    /// Waits until `primary` alone is labelled primary, the ready pods in `ready` secondary, and the read-write
    /// Service selects the primary's address alone.
    static func waitForRoles(_ client: KubeClient, primary: String, ready: Set<Int> = [0, 1, 2]) async throws {
        _ = try await eventually("\(primary) labelled the only primary") { () -> Bool? in
            let pods = try await client.list(
                CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=\(cluster)")
            ).items
            for pod in pods {
                guard let name = pod.metadata?.name, let ordinal = EngineComponent.ordinal(of: pod) else { continue }
                let role = pod.metadata?.labels?[ClusterNames.roleLabel]
                if name == primary, role != "primary" { return nil }
                if name != primary, role == "primary" { return nil }
                if name != primary, ready.contains(ordinal), role != "secondary" { return nil }
            }
            let endpoints = try await client.get(CoreV1.Endpoints.self, name: "\(cluster)-postgresql", namespace: "default")
            let addresses = (endpoints.subsets ?? []).flatMap { $0.addresses ?? [] }.compactMap { $0.targetRef?.name }
            return addresses == [primary] ? true : nil
        }
    }

    /// Starts `server`'s data directory through the addon's setup script with pod `ordinal`'s environment: its env
    /// ConfigMap as envFrom loads it, POD_NAME, and the credential; the primary's address is given outright, since
    /// the test's servers have no DNS names.
    static func restartWithSetupScript(_ server: PostgresServer, ordinal: Int, primaryPort: Int, client: KubeClient) async throws -> SetupScriptRun {
        let addon = try Addon.pgvector.objects()
        let scripts = addon.configMaps.compactMap { $0.data?["pgvector-setup.sh"] }
        let script = try #require(scripts.first)
        let confs = addon.configMaps.compactMap { $0.data?["postgresql.conf"] }
        let conf = try #require(confs.first)
        let environment = try await client.get(CoreV1.ConfigMap.self, name: "\(cluster)-postgresql-env", namespace: "default")
        var variables = environment.data ?? [:]
        variables["POD_NAME"] = pod(ordinal)
        variables["POSTGRES_USER"] = "postgres"
        variables["POSTGRES_PASSWORD"] = "unused: the test's servers trust local connections"
        variables["VB_PRIMARY_HOST"] = "127.0.0.1"
        variables["VB_PRIMARY_PORT"] = "\(primaryPort)"
        return try await server.startWithSetupScript(script, postgresqlConf: conf, environment: variables)
    }
}

/// Writes one row at a time through whichever pod the read-write Service selects, as a client of the Service would,
/// keeping the ids of the writes that committed.
actor LedgerWriter {
    private(set) var committed: [Int] = []
    private var stopped = false

    func stop() { stopped = true }

    func run(client: KubeClient, servers: [PostgresServer]) async throws {
        var next = 1
        while !stopped {
            let id = next
            next += 1
            guard let server = try? await Self.readWriteServer(client: client, servers: servers) else {
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            if (try? await server.psql("INSERT INTO ledger VALUES (\(id))")) != nil {
                committed.append(id)
            } else {
                // The Service still selected the killed primary: retry once it has moved.
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func readWriteServer(client: KubeClient, servers: [PostgresServer]) async throws -> PostgresServer? {
        let endpoints = try await client.get(CoreV1.Endpoints.self, name: "\(PgvectorFailoverTests.cluster)-postgresql", namespace: "default")
        let pods = (endpoints.subsets ?? []).flatMap { $0.addresses ?? [] }.compactMap { $0.targetRef?.name }
        guard pods.count == 1, let ordinal = EngineComponent.ordinal(inPodName: pods[0]), servers.indices.contains(ordinal) else { return nil }
        return servers[ordinal]
    }
}
