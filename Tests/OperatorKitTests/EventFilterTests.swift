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
