import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// The replication slots' pure decisions (names, what to make and drop, which standby re-clones) and the bound's
/// validation, without a server.
@Suite("pgvector replication slot decisions")
struct ReplicationSlotsTests {
    typealias Slot = ReplicationSlots.Slot

    @Test func slotsAreNamedAfterTheirPodsInTheCharactersASlotNameTakes() {
        #expect(ReplicationSlots.name(forPod: "ha-postgresql-1") == "_vb_ha_postgresql_1")
        let long = String(repeating: "a", count: 40) + "-" + String(repeating: "b", count: 20) + "-12"
        let other = String(repeating: "a", count: 40) + "-" + String(repeating: "b", count: 20) + "-13"
        let name = ReplicationSlots.name(forPod: long)
        #expect(name.count == 63)
        #expect(name.hasPrefix("_vb_aaaa"))
        #expect(name != ReplicationSlots.name(forPod: other), "two pods never share a slot")
        #expect(name.allSatisfy { $0 == "_" || $0.isLowercase || $0.isNumber })
    }

    @Test func theSetupScriptNamesAStandbysSlotAsTheOperatorDoes() throws {
        let script = try #require(try Addon.pgvector.objects().configMaps.compactMap { $0.data?["pgvector-setup.sh"] }.first)
        #expect(script.contains(#"slot_name="_vb_$(printf '%s' "$POD_NAME" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' '_')""#))
        #expect(script.contains(#"printf "primary_slot_name = '%s'\n" "$slot_name" >>"$auto_conf""#))
    }

    @Test func everyStandbyTheSpecKeepsHasASlotButThePrimary() {
        let pods = (0..<3).map { "ha-postgresql-\($0)" }
        #expect(
            ReplicationSlots.wanted(primary: "ha-postgresql-1", podNames: pods)
                == ["_vb_ha_postgresql_0": "ha-postgresql-0", "_vb_ha_postgresql_2": "ha-postgresql-2"])
    }

    @Test func thePlanMakesWhatIsMissingAndDropsTheSlotsOfStandbysThatAreGone() {
        let wanted = ["_vb_ha_postgresql_1": "ha-postgresql-1"]
        let existing = [
            Slot(name: "_vb_ha_postgresql_2", active: false, walStatus: "reserved"),  // scaled in
            Slot(name: "_vb_ha_postgresql_0", active: false, walStatus: "reserved"),  // the promoted one's own, left over
            Slot(name: "backup_tool", active: false, walStatus: "reserved"),  // not the operator's
        ]
        let plan = ReplicationSlots.plan(wanted: wanted, existing: existing)
        #expect(plan.create == ["_vb_ha_postgresql_1"])
        #expect(plan.drop == ["_vb_ha_postgresql_0", "_vb_ha_postgresql_2"])
        #expect(plan.busy.isEmpty && plan.lost.isEmpty)
        #expect(!plan.isSettled)
        let settled = ReplicationSlots.plan(wanted: wanted, existing: [Slot(name: "_vb_ha_postgresql_1", active: true, walStatus: "reserved")])
        #expect(settled.isSettled)
    }

    @Test func aSlotStillInUseIsNotDroppedButLookedAtAgain() {
        let plan = ReplicationSlots.plan(wanted: [:], existing: [Slot(name: "_vb_ha_postgresql_2", active: true, walStatus: "reserved")])
        #expect(plan.drop.isEmpty)
        #expect(plan.busy == ["_vb_ha_postgresql_2"])
        #expect(!plan.isSettled)
    }

    @Test func anInvalidatedSlotIsMadeAgainForItsStandby() {
        let wanted = ["_vb_ha_postgresql_1": "ha-postgresql-1", "_vb_ha_postgresql_2": "ha-postgresql-2"]
        let plan = ReplicationSlots.plan(
            wanted: wanted,
            existing: [
                Slot(name: "_vb_ha_postgresql_1", active: false, walStatus: "lost"),
                Slot(name: "_vb_ha_postgresql_2", active: true, walStatus: "unreserved"),
            ])
        #expect(plan.lost == ["_vb_ha_postgresql_1": "ha-postgresql-1"])
        #expect(plan.create.isEmpty && plan.drop.isEmpty)
        #expect(!plan.isSettled)
        // A WAL sender that took the invalidated slot again does not hide it.
        let held = ReplicationSlots.plan(wanted: wanted, existing: [Slot(name: "_vb_ha_postgresql_2", active: true, walStatus: "lost")])
        #expect(held.lost == ["_vb_ha_postgresql_2": "ha-postgresql-2"])
        #expect(held.create == ["_vb_ha_postgresql_1"] && held.busy.isEmpty)
    }

    @Test func settledSlotsAreLookedAtAgainWhenThePodsChangeAndOnceTheRecheckIntervalHasPassed() async throws {
        func pod(_ uid: String, restarts: Int32 = 0) -> CoreV1.Pod {
            var pod = CoreV1.Pod(metadata: .init(name: "ha-postgresql-\(uid)", uid: uid))
            pod.status = CoreV1.PodStatus(
                conditions: [CoreV1.PodCondition(status: "True", type: "Ready")],
                containerStatuses: [CoreV1.ContainerStatus(image: "postgres", imageID: "", name: "postgresql", ready: true, restartCount: restarts)])
            return pod
        }
        let wanted = ["_vb_ha_postgresql_1": "ha-postgresql-1"]
        let fingerprint = SlotsFingerprint(primary: pod("0"), wanted: wanted, keepMegabytes: 1, pods: [pod("0"), pod("1")])
        let restarted = SlotsFingerprint(primary: pod("0"), wanted: wanted, keepMegabytes: 1, pods: [pod("0"), pod("1", restarts: 1)])
        #expect(fingerprint != restarted, "a server that restarted in its pod is looked at")

        let key = EngineObservations.Key(names: ClusterNames(cluster: "ha", namespace: "default"), component: "postgresql")
        let settled = SettledReplicationSlots()
        let start = ContinuousClock.now
        #expect(await settled.untilRecheck(key, fingerprint, now: start) == nil, "never looked at")
        await settled.record(key, fingerprint, now: start)
        #expect(await settled.untilRecheck(key, fingerprint, now: start) == SettledReplicationSlots.recheckInterval)
        #expect(await settled.untilRecheck(key, fingerprint, now: start + .seconds(45)) == .seconds(15))
        #expect(await settled.untilRecheck(key, restarted, now: start + .seconds(1)) == nil, "the pods changed")
        #expect(await settled.untilRecheck(key, fingerprint, now: start + SettledReplicationSlots.recheckInterval) == nil, "due again")
        await settled.forget(key)
        #expect(await settled.untilRecheck(key, fingerprint, now: start) == nil)
    }

    @Test func aStandbyDropsOnlyTheOperatorsSlotsItKeptAsAPrimary() {
        let leftovers = ReplicationSlots.leftovers(onStandby: [
            Slot(name: "_vb_ha_postgresql_2", active: false, walStatus: "reserved"),
            Slot(name: "_vb_ha_postgresql_1", active: true, walStatus: "reserved"),  // a cascading standby's
            Slot(name: "mine", active: false, walStatus: "reserved"),
        ])
        #expect(leftovers == ["_vb_ha_postgresql_2"])
    }

    @Test func aStandbyBehindThePrimarysOldestWALReclones() throws {
        let oldest = try #require(PgvectorAdapter.segmentStart("000000020000000A", segmentSize: 16 << 20))
        #expect(oldest == WALPosition("2/A000000"))
        #expect(ReplicationSlots.cannotCatchUp(received: WALPosition("2/9FFFFFF"), primaryOldest: oldest))
        #expect(!ReplicationSlots.cannotCatchUp(received: WALPosition("2/A000000"), primaryOldest: oldest))
        #expect(!ReplicationSlots.cannotCatchUp(received: nil, primaryOldest: oldest))
        #expect(PgvectorAdapter.segmentStart("00000002", segmentSize: 16 << 20) == nil)
    }

    @Test func theBoundDefaultsToAQuarterOfTheVolumeAndIsValidated() throws {
        let pgvector = try Addon.pgvector.objects().definition
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "ha")  // a 50Gi data volume
        let volume = cluster.spec.componentSpecs[0].storage(of: "data")
        #expect(ComponentReplication().slotWALKeepMegabytes(volume: volume) == 50 * 1024 / 4)
        #expect(ComponentReplication().slotWALKeepMegabytes(volume: nil) == 1024)
        #expect(ComponentReplication(slotMaxWALKeepSize: "4Gi").slotWALKeepMegabytes(volume: volume) == 4096)

        cluster.spec.componentSpecs[0].replication = ComponentReplication(slotMaxWALKeepSize: "4Gi")
        #expect(cluster.validate(definition: pgvector).isEmpty)
        let field = "spec.componentSpecs[0].replication.slotMaxWALKeepSize"
        cluster.spec.componentSpecs[0].replication = ComponentReplication(slotMaxWALKeepSize: "512Ki")
        var errors = cluster.validate(definition: pgvector)
        #expect(errors.map(\.field) == [field])
        #expect(errors.first?.message.contains("at least 1Mi") == true)
        cluster.spec.componentSpecs[0].replication = ComponentReplication(slotMaxWALKeepSize: "50Gi")
        errors = cluster.validate(definition: pgvector)
        #expect(errors.map(\.field) == [field])
        #expect(errors.first?.description.contains("less than the data volume's storage (50Gi)") == true, "\(errors)")
        #expect(errors.first?.fix.contains("12800Mi") == true, "\(errors)")
    }

    @Test func aStandbyThatReplayedPastTheForkOfThePrimarysTimelineIsStranded() throws {
        let history = "1\t0/3000148\tno recovery target specified\n\n2\t0/5000000\tno recovery target specified\n"
        let forks = TimelineFork.forks(history: history)
        #expect(forks == [1: try #require(WALPosition("0/3000148")), 2: try #require(WALPosition("0/5000000"))])
        #expect(TimelineFork.timeline(walFileName: "000000030000000000000005") == 3)
        #expect(TimelineFork.historyFileName(3) == "00000003.history")
        #expect(TimelineFork.historyFileName(0x1A) == "0000001A.history")

        func stranded(_ timeline: UInt32, _ replayed: String, streaming: Bool = false) -> Bool {
            TimelineFork.isStranded(
                standbyTimeline: timeline, replayed: WALPosition(replayed), streaming: streaming, primaryTimeline: 3, forks: forks)
        }
        #expect(stranded(1, "0/3000200"), "past the fork of timeline 1")
        #expect(!stranded(1, "0/3000148"), "at the fork: it can follow")
        #expect(!stranded(2, "0/4000000"))
        #expect(stranded(2, "0/5000001"))
        #expect(!stranded(3, "0/9000000"), "on the primary's timeline")
        #expect(stranded(4, "0/1000000"), "a timeline the primary's history does not have")
        #expect(!stranded(1, "0/3000200", streaming: true), "a standby that streams is following")
    }
}
