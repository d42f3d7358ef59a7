import KubeKit
import KubeSim
import Logging
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A standby that cannot follow its primary is restarted (cloned afresh or rewound) at once, and again only after a
/// backoff that doubles, so a restart that does not help is not repeated at every look; a standby that streams again
/// starts over.
@Suite struct StandbyRestartBackoffTests {
    @Test func theBackoffDoublesFromTenSecondsToFiveMinutesAndStartsOverAfterTenQuietMinutes() async {
        let restarts = StandbyRestarts()
        let start = ContinuousClock.now
        #expect(await restarts.backoffRemaining("default/pg-postgresql-1", now: start) == nil)
        var waits: [Duration] = []
        var now = start
        for _ in 0..<7 {
            let wait = await restarts.record("default/pg-postgresql-1", now: now)
            waits.append(wait)
            #expect(await restarts.backoffRemaining("default/pg-postgresql-1", now: now + wait - .seconds(1)) == .seconds(1))
            #expect(await restarts.backoffRemaining("default/pg-postgresql-1", now: now + wait) == nil)
            now += wait
        }
        #expect(waits == [10, 20, 40, 80, 160, 300, 300].map { Duration.seconds($0) })
        // Another pod has its own count.
        #expect(await restarts.record("default/pg-postgresql-2", now: now) == .seconds(10))
        #expect(await restarts.record("default/pg-postgresql-1", now: now + .seconds(600)) == .seconds(10))
        await restarts.forget("default/pg-postgresql-2")
        #expect(await restarts.backoffRemaining("default/pg-postgresql-2", now: now) == nil)
    }

    /// Against KubeSim, with an engine whose servers say what the test sets: the standby asks for WAL its primary no
    /// longer has.
    @Test func aStandbyThatStillCannotFollowIsRestartedAgainOnlyAfterItsBackoffAndOneThatStreamedStartsOver() async throws {
        try await withKubeSim { _, client in
            let names = ClusterNames(cluster: "pg", namespace: "default")
            let primary = try await Self.readyPod(names.pod("postgresql", ordinal: 0), client: client)
            let hooks = EngineHooks(
                client: client, caches: OperatorCaches(client: client, namespaces: ["default"], logger: Logger(label: "test")),
                adapters: EngineAdapters([:]), addressing: .unreachable, logger: Logger(label: "test"), calls: EngineCallMetrics(factory: nil))
            let servers = ScriptedSlotServers(primary: primary.metadata?.name ?? "", standby: names.pod("postgresql", ordinal: 1))
            let events = RecordedEvents()
            let spec = ClusterComponentSpec(name: "postgresql", componentDefRef: "postgresql", replicas: 2)
            func look(standby: CoreV1.Pod) async throws {
                let engine = EngineComponent(names: names, component: "postgresql", pods: [primary, standby], credential: [:], addressing: .unreachable)
                _ = try await hooks.keepReplicationSlots(engine, slots: servers, spec: spec, on: primary) { _, reason, message in
                    await events.append(reason, message)
                }
            }

            let standby = try await Self.readyPod(names.pod("postgresql", ordinal: 1), client: client)
            try await look(standby: standby)
            #expect(await servers.marked == [standby.metadata?.name ?? ""])
            #expect(try await Self.uid(of: standby, client: client) == nil, "its pod is deleted")
            let first = try #require(await events.messages(reason: "StandbyRecloning").first)
            #expect(first.hasSuffix("restarted again no sooner than 10s from now"), "\(first)")

            // The StatefulSet makes the pod again and it is ready, but still behind: the backoff holds the next restart.
            let again = try await Self.readyPod(names.pod("postgresql", ordinal: 1), client: client)
            try await look(standby: again)
            #expect(await servers.marked.count == 1)
            #expect(try await Self.uid(of: again, client: client) == again.metadata?.uid)
            #expect(await events.messages(reason: "StandbyRecloning").count == 1)

            // It streams through its slot: restarted again at once if it ever falls behind again.
            await servers.standbyStreams(true)
            try await look(standby: again)
            await servers.standbyStreams(false)
            try await look(standby: again)
            #expect(await servers.marked.count == 2)
            #expect(try await Self.uid(of: again, client: client) == nil)
            #expect(await events.messages(reason: "StandbyRecloning").count == 2)
        }
    }

    static func readyPod(_ name: String, client: KubeClient) async throws -> CoreV1.Pod {
        let created = try await client.create(
            CoreV1.Pod(
                metadata: .init(name: name, namespace: "default"),
                spec: .init(containers: [.init(image: "postgres", name: "postgresql")])))
        var ready = created
        ready.status = .init(conditions: [.init(status: "True", type: "Ready")])
        return try await client.updateStatus(ready)
    }

    static func uid(of pod: CoreV1.Pod, client: KubeClient) async throws -> String? {
        do {
            return try await client.get(CoreV1.Pod.self, name: pod.metadata?.name ?? "", namespace: "default").metadata?.uid
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }
}

/// The Events reported, in order.
private actor RecordedEvents {
    private var events: [(reason: String, message: String)] = []

    func append(_ reason: String, _ message: String) { events.append((reason, message)) }
    func messages(reason: String) -> [String] { events.filter { $0.reason == reason }.map(\.message) }
}

/// A primary that no longer has the WAL before 0/5000000, and a standby that asks for 0/1000000 unless told it
/// streams; what the operator marks is recorded.
private actor ScriptedSlotServers: SlotKeepingEngine {
    let primary: String
    let standby: String
    private var streams = false
    private(set) var marked: [String] = []

    init(primary: String, standby: String) {
        self.primary = primary
        self.standby = standby
    }

    func standbyStreams(_ streams: Bool) { self.streams = streams }

    func replicationView(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> ReplicationView {
        let slot = ReplicationSlots.name(forPod: standby)
        // The slot is never reported in use, so the component is never found settled and every look asks the standby.
        guard pod.metadata?.name != primary else {
            return ReplicationView(
                inRecovery: false, slots: [.init(name: slot, active: false, walStatus: "reserved")], oldestWAL: WALPosition(value: 0x500_0000))
        }
        return ReplicationView(
            inRecovery: true, primarySlot: slot, receivedLSN: WALPosition(value: streams ? 0x600_0000 : 0x100_0000), streaming: streams)
    }

    func changeSlots(create: [String], drop: [String], renew: [String], keepMegabytes: Int64?, on pod: CoreV1.Pod, in component: EngineComponent) {}
    func usePrimarySlot(_ slot: String, on pod: CoreV1.Pod, in component: EngineComponent) {}
    func mark(_ pod: CoreV1.Pod, for restart: StandbyRestart, in component: EngineComponent) {
        marked.append(pod.metadata?.name ?? "")
    }

    func replicaStates(_ component: EngineComponent) async -> [String: ReplicaState] { [:] }
    func promote(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> Bool { false }
    func follow(_ pod: CoreV1.Pod, primary: CoreV1.Pod, in component: EngineComponent) async throws {}
    nonisolated func isFollowing(_ state: ReplicaState, primary: CoreV1.Pod, in component: EngineComponent) -> Bool { false }
    func checkpoint(_ pod: CoreV1.Pod, in component: EngineComponent) async throws {}
    func synchronousStandbys(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> String { "" }
    func setSynchronousStandbys(_ setting: String, on pod: CoreV1.Pod, in component: EngineComponent) async throws {}
}
