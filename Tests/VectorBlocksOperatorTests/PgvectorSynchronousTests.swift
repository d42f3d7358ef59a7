import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Synchronous replication against real PostgreSQL: the operator keeps `synchronous_standby_names` on the primary
/// as ANY n of the standbys that exist (by application_name, the pod's name), and on the new primary after a
/// failover, so that a failover under a write load loses no committed transaction.
@Suite("pgvector synchronous replication against real servers", .serialized)
struct PgvectorSynchronousTests {
    typealias Failover = PgvectorFailoverTests
    static func pod(_ ordinal: Int) -> String { Failover.pod(ordinal) }

    @Test func aFailoverUnderLoadInSynchronousModeLosesNoCommittedTransaction() async throws {
        try await Self.withNamedStandbys { servers, addressing in
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await PgvectorSwitchoverTests.createCluster(client, replicas: 3, synchronous: 1)
                _ = try await eventually("the primary waiting for either standby") { () -> Bool? in
                    try await servers[0].psql("SHOW synchronous_standby_names") == #"ANY 1 ("ha-postgresql-1", "ha-postgresql-2")"#
                        ? true : nil
                }
                _ = try await eventually("both standbys in the quorum") { () -> Bool? in
                    try await servers[0].psql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'") == "2" ? true : nil
                }

                let writer = LedgerWriter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await writer.run(client: client, servers: servers) }
                    _ = try await eventually("writes through the read-write Service") { await writer.committed.count >= 50 ? true : nil }
                    try await servers[0].kill()
                    try await kubeSim.setPodReady(false, Self.pod(0))
                    let killedAt = await writer.committed.count
                    let promoted = try await eventually("a standby recorded as the primary") { () -> String? in
                        let primary = try await Failover.recordedPrimary(client)
                        return primary != Self.pod(0) ? primary : nil
                    }
                    let ordinal = try #require(EngineComponent.ordinal(inPodName: promoted))
                    let other = ordinal == 1 ? 2 : 1
                    _ = try await eventually("writes through the read-write Service again") { () -> Bool? in
                        await writer.committed.count >= killedAt + 50 ? true : nil
                    }
                    // The new primary waits for the standbys that exist: the other one, and the old primary's pod,
                    // which is still there and will come back as a standby.
                    #expect(
                        try await servers[ordinal].psql("SHOW synchronous_standby_names")
                            == "ANY 1 (\"\(Self.pod(0))\", \"\(Self.pod(other))\")")
                    #expect(
                        try await servers[ordinal].psql("SELECT application_name FROM pg_stat_replication WHERE sync_state = 'quorum'")
                            == Self.pod(other))
                    await writer.stop()
                    try await group.waitForAll()
                }

                let promoted = try #require(EngineComponent.ordinal(inPodName: try await Failover.recordedPrimary(client) ?? ""))
                let committed = await writer.committed
                let stored = Set(try await servers[promoted].psql("SELECT id FROM ledger").split(separator: "\n").compactMap { Int($0) })
                let lost = committed.filter { !stored.contains($0) }
                print("pgvector failover in synchronous mode: \(committed.count) writes committed, \(lost.count) lost")
                #expect(lost.isEmpty, "committed writes lost: \(lost)")
                await running.stop()
            }
        }
    }

    /// A pod the component no longer has (a scale-in) is dropped from the list at once: commits never wait for it.
    @Test func aStandbyThatLeavesInAScaleInIsNoLongerWaitedFor() async throws {
        try await Self.withNamedStandbys { servers, addressing in
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await PgvectorSwitchoverTests.createCluster(client, replicas: 3, synchronous: 2)
                _ = try await eventually("the primary waiting for both standbys") { () -> Bool? in
                    try await servers[0].psql("SHOW synchronous_standby_names") == #"ANY 2 ("ha-postgresql-1", "ha-postgresql-2")"#
                        ? true : nil
                }
                try await client.edit(Cluster.self, name: Failover.cluster, namespace: "default") { cluster in
                    cluster.spec.componentSpecs[0].replicas = 2
                    cluster.spec.componentSpecs[0].replication?.synchronous = SynchronousReplication(number: 1)
                }
                _ = try await eventually("the leaving standby dropped from the list") { () -> Bool? in
                    try await servers[0].psql("SHOW synchronous_standby_names") == #"ANY 1 ("ha-postgresql-1")"# ? true : nil
                }
                // Commits go on once the leaving standby is gone.
                try await servers[2].stop()
                try await servers[0].psql("CREATE TABLE after_scale_in (id int)")
                await running.stop()
            }
        }
    }

    /// A primary and two standbys, each streaming under its pod's name as the setup script and the operator's
    /// re-pointing start them, for `body`; stopped after it, whatever it throws.
    static func withNamedStandbys(_ body: ([PostgresServer], PodAddressing) async throws -> Void) async throws {
        let servers = try await PgvectorSwitchoverTests.startServers()
        do {
            for ordinal in 1..<servers.count {
                try await servers[ordinal].psql(
                    "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=\(servers[0].port) user=postgres application_name=\(Self.pod(ordinal))'")
                try await servers[ordinal].psql("SELECT pg_reload_conf()")
            }
            try await body(servers, PgvectorSwitchoverTests.addressing(servers))
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try await server.stop() }
    }
}
