import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Replication slots against real PostgreSQL (a primary and two hot standbys standing for a KubeSim cluster's pods,
/// as in PgvectorFailoverTests): the operator keeps a slot per standby on the primary, each standby streams through
/// its own, a scale-in drops the leaving standby's, a failover gives the new primary slots for its standbys, and a
/// standby whose slot the bound invalidated is reported and cloned afresh.
@Suite("pgvector replication slots against real servers", .serialized)
struct PgvectorReplicationSlotsTests {
    typealias Failover = PgvectorFailoverTests
    static func pod(_ ordinal: Int) -> String { Failover.pod(ordinal) }
    static func slot(_ ordinal: Int) -> String { ReplicationSlots.name(forPod: pod(ordinal)) }

    @Test func everyStandbyStreamsThroughItsSlotAndAScaleInDropsTheLeavingOnes() async throws {
        let servers = try await PgvectorSwitchoverTests.startServers()
        let addressing = PgvectorSwitchoverTests.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await PgvectorSwitchoverTests.createCluster(client, replicas: 3)
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t", "\(Self.slot(2)):t"])
                for ordinal in [1, 2] {
                    #expect(try await servers[ordinal].psql("SHOW primary_slot_name") == Self.slot(ordinal))
                }
                // The default bound: a quarter of the example's 50Gi data volume.
                #expect(try await servers[0].psql("SHOW max_slot_wal_keep_size") == "12800MB")

                try await client.edit(Cluster.self, name: Failover.cluster, namespace: "default") { $0.spec.componentSpecs[0].replicas = 2 }
                _ = try await eventually("the leaving pod gone") { () -> Bool? in
                    (try? await client.get(CoreV1.Pod.self, name: Self.pod(2), namespace: "default")) == nil ? true : nil
                }
                // Its server stops with its pod: its slot, no longer in use, goes.
                try await servers[2].stop()
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t"])
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try? await server.stop() }
    }

    @Test func aFailoverGivesTheNewPrimarySlotsForItsStandbys() async throws {
        let servers = try await PgvectorSwitchoverTests.startServers()
        let addressing = PgvectorSwitchoverTests.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await PgvectorSwitchoverTests.createCluster(client, replicas: 3)
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t", "\(Self.slot(2)):t"])

                try await servers[0].kill()
                try await kubeSim.setPodReady(false, Self.pod(0))
                let promoted = try await eventually("a standby recorded as the primary") { () -> String? in
                    let primary = try await Failover.recordedPrimary(client)
                    return primary != Self.pod(0) ? primary : nil
                }
                let ordinal = try #require(EngineComponent.ordinal(inPodName: promoted))
                let other = ordinal == 1 ? 2 : 1
                // The remaining standby streams through its slot on the new primary; the old primary's is kept for
                // its return; the promoted one has none of its own.
                try await Self.waitForSlots(on: servers[ordinal], ["\(Self.slot(0)):f", "\(Self.slot(other)):t"])

                // The old primary rejoins through the setup script, streaming through its slot; the slots it kept
                // from its time as the primary are dropped.
                let rejoined = try await Failover.restartWithSetupScript(servers[0], ordinal: 0, primaryPort: servers[ordinal].port, client: client)
                #expect(try await servers[0].psql("SELECT pg_is_in_recovery()") == "t", "\(rejoined.output)")
                try await kubeSim.setPodReady(true, Self.pod(0))
                try await Self.waitForSlots(on: servers[ordinal], ["\(Self.slot(0)):t", "\(Self.slot(other)):t"])
                try await Self.waitForSlots(on: servers[0], [])
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try? await server.stop() }
    }

    /// A primary and one standby: a second standby that stayed would be a bystander at the mercy of the 1Mi bound. Any
    /// WAL written while it lagged a segment behind (on a loaded machine, the burst below), followed by a checkpoint
    /// (pg_basebackup's, to clone the returning standby), invalidated its slot too, and nothing here clones it.
    @Test
    func aStandbyWhoseSlotWasInvalidatedIsReportedAndClonedAfresh() async throws {
        let servers = try await PgvectorSwitchoverTests.startServers(standbys: 1)
        let addressing = PgvectorSwitchoverTests.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                var cluster = try exampleCluster("pgvector-cluster.yaml", name: Failover.cluster)
                cluster.spec.componentSpecs[0].replicas = 2
                cluster.spec.componentSpecs[0].replication = ComponentReplication(failoverDelaySeconds: 0, slotMaxWALKeepSize: "1Mi")
                _ = try await client.create(cluster)
                _ = try await waitForPhase(.running, Failover.cluster, client: client)
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t"])
                #expect(try await servers[0].psql("SHOW max_slot_wal_keep_size") == "1MB")

                // The standby goes away while the primary writes far more WAL than the bound lets its slot keep.
                try await kubeSim.setPodReady(false, Self.pod(1))
                try await servers[1].stop()
                try await servers[0].psql("CREATE TABLE filler AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 30000) g")
                // Its first vacuum writes its pages to WAL again (wal_log_hints): inside the burst, not later, by
                // autovacuum, against the returning standby's renewed slot.
                try await servers[0].psql("VACUUM filler")
                try await servers[0].psql("SELECT pg_switch_wal()")
                let switched = try await servers[0].psql("SELECT pg_current_wal_lsn()")
                try await servers[0].psql("CHECKPOINT")
                _ = try await eventually("the invalidated slot reported") { () -> Bool? in
                    let reasons = try await client.list(CoreV1.Event.self, namespace: "default").items.compactMap(\.reason)
                    return reasons.contains("ReplicationSlotLost") ? true : nil
                }
                // Made again, reserving WAL from where the primary was at that moment, past the burst. Not
                // necessarily `reserved` by the time it is looked at: any WAL written since (autovacuum's analyze,
                // the operator's own writes) counts against the 1Mi bound of a standby that is away, and its renewed
                // slot may be `unreserved`. A timeout says what the slot and the Events were.
                do {
                    _ = try await eventually("the slot made again") { () -> Bool? in
                        let status = try await servers[0].psql(
                            """
                            SELECT coalesce(wal_status, 'none') || ' past-burst=' || coalesce((restart_lsn >= '\(switched)'::pg_lsn)::text, 'no')
                            FROM pg_replication_slots WHERE slot_name = '\(Self.slot(1))'
                            """)
                        guard status.hasSuffix("past-burst=true"), !status.hasPrefix("lost") else {
                            throw TestSetupError("slot \(Self.slot(1)) is '\(status)'")
                        }
                        return true
                    }
                } catch {
                    throw TestSetupError("\(error); events: \(try await Self.eventSummary(client))")
                }

                // The standby returns as it was: it cannot catch up, so the operator has it cloned afresh.
                async let recloned: Void = PgvectorSwitchoverTests.restartWhenFenced(
                    1, servers: servers, primaryPort: servers[0].port, kubeSim: kubeSim, client: client)
                _ = try await Failover.restartWithSetupScript(servers[1], ordinal: 1, primaryPort: servers[0].port, client: client)
                try await kubeSim.setPodReady(true, Self.pod(1))
                try await recloned
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t"])
                // WAL the primary no longer had: the rows reached the standby through the fresh clone.
                _ = try await eventually("the rows on the recloned standby") { () -> Bool? in
                    (try? await servers[1].psql("SELECT count(*) FROM filler")) == "30000" ? true : nil
                }
                let reasons = try await client.list(CoreV1.Event.self, namespace: "default").items.compactMap(\.reason)
                #expect(reasons.contains("StandbyRecloning"))
                await running.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try? await server.stop() }
    }

    /// A standby that received WAL the promoted one never had (here: the promoted one had stopped streaming, and the
    /// promotion was recorded as a previous operator would have) cannot follow the new timeline: the operator has it
    /// rewound (or, when it asks for WAL the new primary no longer has, cloned afresh), and it streams again without
    /// the rows of the dead timeline.
    @Test func aStandbyLeftPastTheNewTimelinesForkIsRestartedOntoIt() async throws {
        let servers = try await PgvectorSwitchoverTests.startServers()
        // As the addon configures them: each server keeps 1GB of WAL, so the promoted one still has what came before
        // the fork.
        for server in servers {
            try await server.psql("ALTER SYSTEM SET wal_keep_size = '1GB'")
            try await server.psql("SELECT pg_reload_conf()")
        }
        let addressing = PgvectorSwitchoverTests.addressing(servers)
        do {
            try await withKubeSim(workloads: true) { kubeSim, client in
                try await installOperatorPrerequisites(client)
                let before = RunningOperator(client: client, podAddressing: addressing)
                try await PgvectorSwitchoverTests.createCluster(client, replicas: 3)
                try await Self.waitForSlots(on: servers[0], ["\(Self.slot(1)):t", "\(Self.slot(2)):t"])
                await before.stop()

                // Standby 1 stops streaming; standby 2 receives what the primary writes next.
                try await servers[1].psql("ALTER SYSTEM SET primary_conninfo = ''")
                try await servers[1].psql("SELECT pg_reload_conf()")
                _ = try await eventually("standby 1's WAL receiver stopped") { () -> Bool? in
                    try await servers[1].psql("SELECT count(*) FROM pg_stat_wal_receiver") == "0" ? true : nil
                }
                try await servers[0].psql("CREATE TABLE only_on_the_old_timeline AS SELECT 1 AS one")
                _ = try await eventually("the table on standby 2") { () -> Bool? in
                    try await servers[2].psql("SELECT to_regclass('only_on_the_old_timeline') IS NOT NULL") == "t" ? true : nil
                }
                try await servers[0].kill()
                try await kubeSim.setPodReady(false, Self.pod(0))
                var stored = try await client.get(Cluster.self, name: Failover.cluster, namespace: "default")
                stored.status?.components?["postgresql"]?.primary = Self.pod(1)
                _ = try await client.updateStatus(stored)

                async let rewound: Void = PgvectorSwitchoverTests.restartWhenFenced(
                    2, servers: servers, primaryPort: servers[1].port, kubeSim: kubeSim, client: client)
                let after = RunningOperator(client: client, podAddressing: addressing)
                // The old primary rejoins too: the StatefulSet (OrderedReady) makes pod 2 again only once pod 0 is
                // ready.
                _ = try await eventually("the recorded standby promoted") { () -> Bool? in
                    try await servers[1].psql("SELECT pg_is_in_recovery()") == "f" ? true : nil
                }
                _ = try await Failover.restartWithSetupScript(servers[0], ordinal: 0, primaryPort: servers[1].port, client: client)
                try await kubeSim.setPodReady(true, Self.pod(0))
                try await rewound
                _ = try await eventually("standby 2 streaming from the new primary") { () -> Bool? in
                    try await servers[2].psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                        == "\(servers[1].port)" ? true : nil
                }
                try await servers[1].psql("CREATE TABLE on_the_new_timeline (id int)")
                _ = try await eventually("standby 2 replaying the new timeline") { () -> Bool? in
                    try await servers[2].psql("SELECT to_regclass('on_the_new_timeline') IS NOT NULL") == "t" ? true : nil
                }
                #expect(try await servers[2].psql("SELECT to_regclass('only_on_the_old_timeline') IS NULL") == "t")
                // Rewound, as a rule. One loaded run of the full suite saw it cloned afresh instead, at once after the
                // promotion (before the standbys were re-pointed), with no wal_keep_size then: the operator judged
                // that the new primary no longer had the WAL the standby's receiver asked for. Either restart brings
                // it onto the new timeline, which is checked above; the Events say which one it was.
                let events = try await client.list(CoreV1.Event.self, namespace: "default").items
                let restarts = events.filter { $0.reason == "StandbyRewinding" || $0.reason == "StandbyRecloning" }
                #expect(!restarts.isEmpty, "events: \(Self.eventSummary(events))")
                await after.stop()
            }
        } catch {
            for server in servers { try? await server.stop() }
            throw error
        }
        for server in servers { try? await server.stop() }
    }

    /// The Events' reasons and messages, for a failure's message.
    static func eventSummary(_ events: [CoreV1.Event]) -> String {
        events.map { "\($0.reason ?? ""): \($0.message ?? "")" }.joined(separator: " | ")
    }

    static func eventSummary(_ client: KubeClient) async throws -> String {
        eventSummary(try await client.list(CoreV1.Event.self, namespace: "default").items)
    }

    /// Waits until the server's replication slots are `expected`, each `name:t` (in use) or `name:f`.
    static func waitForSlots(on server: PostgresServer, _ expected: [String]) async throws {
        let wanted = expected.sorted().joined(separator: ",")
        var last = ""
        do {
            _ = try await eventually("the slots \(wanted) on port \(server.port)") { () -> Bool? in
                last = try await server.psql(
                    "SELECT coalesce(string_agg(slot_name || ':' || (CASE WHEN active THEN 't' ELSE 'f' END), ',' ORDER BY slot_name), '') FROM pg_replication_slots"
                )
                return last == wanted ? true : nil
            }
        } catch {
            throw TestSetupError("\(error); the slots were \(last)")
        }
    }
}
