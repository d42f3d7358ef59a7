import KubeKit
import Testing

@testable import OperatorKit

@Suite("Event filters")
struct EventFilterTests {
    func cluster(generation: Int64, labels: [String: String]? = nil, statusReplicas: Int32? = nil) -> AppsV1.StatefulSet {
        var object = AppsV1.StatefulSet(metadata: .init(generation: generation, labels: labels, name: "db", namespace: "default"))
        object.status = statusReplicas.map { AppsV1.StatefulSetStatus(replicas: $0) }
        return object
    }

    @Test func aStatusOnlyWriteIsFilteredOutAndEverythingElsePasses() {
        let filter = EventFilter<AppsV1.StatefulSet>.specOrMetadataChanged
        let base = cluster(generation: 1, statusReplicas: 1)
        #expect(!filter.admits(.updated(old: base, new: cluster(generation: 1, statusReplicas: 3))))
        #expect(filter.admits(.updated(old: base, new: cluster(generation: 2, statusReplicas: 1))))
        #expect(filter.admits(.updated(old: base, new: cluster(generation: 1, labels: ["a": "b"], statusReplicas: 1))))
        var deleting = base
        deleting.metadata?.deletionTimestamp = .now()
        #expect(filter.admits(.updated(old: base, new: deleting)))
        var finalized = base
        finalized.metadata?.finalizers = ["example.com/keep"]
        #expect(filter.admits(.updated(old: base, new: finalized)))
        #expect(filter.admits(.added(base)))
        #expect(filter.admits(.deleted(base)))
        #expect(EventFilter<AppsV1.StatefulSet>.all.admits(.updated(old: base, new: base)))
    }
}

@Suite("A controller's own status writes")
struct OwnStatusWritesTests {
    let key = ObjectKey(namespace: "default", name: "db")

    func statefulSet(version: String, replicas: Int32) -> AppsV1.StatefulSet {
        var object = AppsV1.StatefulSet(metadata: .init(name: "db", namespace: "default", resourceVersion: version))
        object.status = AppsV1.StatefulSetStatus(replicas: replicas)
        return object
    }

    @Test func theWrittenStatusIsKnownUntilTheCacheMovesOn() {
        let writes = OwnStatusWrites<Int32>()
        #expect(writes.known(key, cachedVersion: "5", cached: 1) == 1)
        writes.record(3, of: key, over: "5", made: "6")
        #expect(writes.known(key, cachedVersion: "5", cached: 1) == 3)
        #expect(writes.known(key, cachedVersion: "7", cached: 4) == 4)
        // Once the cache moved on, it is the reference again even if an older version came back.
        #expect(writes.known(key, cachedVersion: "5", cached: 1) == 1)
        writes.record(3, of: key, over: "8", made: "9")
        writes.forget(key)
        #expect(writes.known(key, cachedVersion: "8", cached: 2) == 2)
    }

    @Test func onlyTheCacheCatchingUpWithTheLastWriteInOneStepIsFilteredOut() {
        let writes = OwnStatusWrites<Int32>()
        let filter = EventFilter<AppsV1.StatefulSet>.specOrMetadataChanged || .statusChanged(\.status?.replicas, exceptEchoesOf: writes)
        func update(_ old: (String, Int32), _ new: (String, Int32)) -> InformerEvent<AppsV1.StatefulSet> {
            .updated(old: statefulSet(version: old.0, replicas: old.1), new: statefulSet(version: new.0, replicas: new.1))
        }
        writes.record(3, of: key, over: "5", made: "6")
        #expect(!filter.admits(update(("5", 1), ("6", 3))))
        // Another writer's status change before the write shows: both steps wake the controller.
        writes.record(4, of: key, over: "6", made: "8")
        #expect(filter.admits(update(("6", 3), ("7", 2))))
        #expect(filter.admits(update(("7", 2), ("8", 4))))
        // No status change is no news; an echo is filtered out once.
        #expect(!filter.admits(update(("8", 4), ("9", 4))))
        writes.record(5, of: key, over: "9", made: "10")
        #expect(!filter.admits(update(("9", 4), ("10", 5))))
        #expect(filter.admits(update(("9", 4), ("10", 5))))
        var relabelled = statefulSet(version: "11", replicas: 5)
        relabelled.metadata?.labels = ["tier": "gold"]
        #expect(filter.admits(.updated(old: statefulSet(version: "10", replicas: 5), new: relabelled)))
    }
}
