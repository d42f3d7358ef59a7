import Foundation
import KubeKit
import KubeSim
import Testing

@Suite struct StatefulSetTests {
    /// The index of the first event matching `predicate`, or nil.
    func index(_ events: [JSONValue], _ predicate: (JSONValue) -> Bool) -> Int? {
        events.firstIndex(where: predicate)
    }

    @Test func scaleOutInOrderAndInFromTheTopKeepingClaims() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            #expect(try await client.post(statefulSetsPath, statefulSet("web")).status == 201)
            let set = try await eventually("3 ready replicas") { () -> JSONValue? in
                let set = try await client.get("\(statefulSetsPath)/web").body
                return set["status"]?["readyReplicas"] == 3 ? set : nil
            }
            let events = try await recorder.snapshot { $0.contains { $0["object"]?.name == "web-2" && $0["object"]?.ready == true } }
            // OrderedReady: each pod is created only after the one before it is Running and Ready.
            for ordinal in 1..<3 {
                let created = try #require(index(events) { $0["type"] == "ADDED" && $0["object"]?.name == "web-\(ordinal)" })
                let previousReady = try #require(index(events) { $0["object"]?.name == "web-\(ordinal - 1)" && $0["object"]?.ready == true })
                #expect(previousReady < created, "web-\(ordinal) was created before web-\(ordinal - 1) was ready")
            }
            let pod = try await client.get("\(podsPath)/web-1").body
            #expect(pod["metadata"]?["labels"]?["app"] == "web")
            #expect(pod["metadata"]?["labels"]?["statefulset.kubernetes.io/pod-name"] == "web-1")
            #expect(pod["metadata"]?["labels"]?["controller-revision-hash"] == set["status"]?["updateRevision"])
            #expect(pod["spec"]?["hostname"] == "web-1")
            #expect(pod["spec"]?["subdomain"] == "web-headless")
            let owner = try #require(pod["metadata"]?["ownerReferences"]?.arrayValue?.first)
            #expect(owner["kind"] == "StatefulSet")
            #expect(owner["uid"] == set["metadata"]?["uid"])
            #expect(owner["controller"] == true)
            #expect(pod["spec"]?["volumes"]?.arrayValue?.contains { $0["persistentVolumeClaim"]?["claimName"] == "data-web-1" } == true)
            for ordinal in 0..<3 {
                let stored = try await client.get("\(claimsPath)/data-web-\(ordinal)")
                #expect(stored.status == 200)
                #expect(stored.body["metadata"]?["labels"]?["app"] == "web")
                #expect(stored.body["metadata"]?["ownerReferences"] == nil)
            }
            #expect(set["status"]?["replicas"] == 3)
            #expect(set["status"]?["availableReplicas"] == 3)
            #expect(set["status"]?["currentReplicas"] == 3)
            #expect(set["status"]?["updatedReplicas"] == 3)
            #expect(set["status"]?["observedGeneration"] == 1)
            #expect(set["status"]?["currentRevision"] == set["status"]?["updateRevision"])

            // Scale in to one: web-2 goes before web-1, and the claims stay.
            try await client.mergePatch("\(statefulSetsPath)/web", ["spec": ["replicas": 1]])
            try await eventually("one pod left") { () -> Bool? in
                let names = try await client.items(podsPath).map(\.name)
                return names == ["web-0"] ? true : nil
            }
            let scaleIn = try await recorder.snapshot { $0.contains { $0["type"] == "DELETED" && $0["object"]?.name == "web-1" } }
            let twoLeaves = try #require(index(scaleIn) { $0["object"]?.name == "web-2" && $0["object"]?.terminating == true })
            let oneLeaves = try #require(index(scaleIn) { $0["object"]?.name == "web-1" && $0["object"]?.terminating == true })
            #expect(twoLeaves < oneLeaves)
            let twoGone = try #require(index(scaleIn) { $0["type"] == "DELETED" && $0["object"]?.name == "web-2" })
            #expect(twoGone < oneLeaves, "web-1 was deleted before web-2 was gone")
            #expect(Set(try await client.items(claimsPath).map(\.name)) == ["data-web-0", "data-web-1", "data-web-2"])
            try await eventually("status after scale-in") { () -> Bool? in
                let status = try await client.get("\(statefulSetsPath)/web").body["status"]
                return status?["replicas"] == 1 && status?["readyReplicas"] == 1 ? true : nil
            }

            // Deleting the set takes its pods but keeps the claims (retention policy Retain).
            try await client.delete("\(statefulSetsPath)/web")
            try await eventually("pods gone") { try await client.items(podsPath).isEmpty ? true : nil }
            #expect(try await client.items(claimsPath).count == 3)
        }
    }

    /// Deleted with `propagationPolicy: Orphan` and made again (as operators change immutable fields), a set takes its
    /// pods back rather than making new ones, and still replaces one that goes.
    @Test func aRecreatedSetAdoptsTheOrphanedPods() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            try await client.post(statefulSetsPath, statefulSet("web", replicas: 2))
            try await eventually("2 ready") { try await client.get("\(statefulSetsPath)/web").body["status"]?["readyReplicas"] == 2 ? true : nil }
            let before = Dictionary(uniqueKeysWithValues: try await client.items(podsPath).map { ($0.name, $0["metadata"]?["uid"]) })
            try await client.delete("\(statefulSetsPath)/web?propagationPolicy=Orphan")
            try await eventually("pods orphaned") {
                try await client.items(podsPath).allSatisfy { $0["metadata"]?["ownerReferences"] == nil } ? true : nil
            }

            let recreated = try await client.post(statefulSetsPath, statefulSet("web", replicas: 2)).body
            let uid = try #require(recreated["metadata"]?["uid"])
            try await eventually("pods adopted") { () -> Bool? in
                let pods = try await client.items(podsPath)
                return pods.count == 2 && pods.allSatisfy { $0["metadata"]?["ownerReferences"]?[0]?["uid"] == uid } ? true : nil
            }
            let after = Dictionary(uniqueKeysWithValues: try await client.items(podsPath).map { ($0.name, $0["metadata"]?["uid"]) })
            #expect(after == before, "the set made new pods instead of adopting its own")
            try await eventually("status counts the adopted pods") {
                try await client.get("\(statefulSetsPath)/web").body["status"]?["readyReplicas"] == 2 ? true : nil
            }

            try await client.delete("\(podsPath)/web-1")
            try await eventually("web-1 replaced") { () -> Bool? in
                let pod = try await client.get("\(podsPath)/web-1")
                return pod.status == 200 && pod.body["metadata"]?["uid"] != before["web-1"] && pod.body["metadata"]?["ownerReferences"]?[0]?["uid"] == uid
                    ? true : nil
            }
        }
    }

    @Test func claimsComeBeforePods() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            let podEvents = try await WatchRecorder(server, podsPath)
            let claimEvents = try await WatchRecorder(server, claimsPath)
            try await client.post(statefulSetsPath, statefulSet("db", replicas: 2, claims: ["data", "wal"]))
            try await eventually("2 ready") { try await client.get("\(statefulSetsPath)/db").body["status"]?["readyReplicas"] == 2 ? true : nil }
            let podAdded = try await podEvents.snapshot { $0.contains { $0["type"] == "ADDED" && $0["object"]?.name == "db-1" } }
            let claimAdded = try await claimEvents.snapshot { $0.contains { $0["type"] == "ADDED" && $0["object"]?.name == "wal-db-1" } }
            let created = Self.creationVersions(podAdded + claimAdded)
            podEvents.stop()
            claimEvents.stop()
            for ordinal in 0..<2 {
                let pod = try #require(created["db-\(ordinal)"])
                for claim in ["data", "wal"] {
                    let claimVersion = try #require(created["\(claim)-db-\(ordinal)"])
                    #expect(claimVersion < pod, "\(claim)-db-\(ordinal) was created after its pod")
                }
            }
            let bound = try await client.get("\(claimsPath)/wal-db-1").body
            #expect(bound["status"]?["phase"] == "Bound")
            #expect(bound["status"]?["capacity"]?["storage"] == "1Gi")
        }
    }

    /// Name → the resourceVersion of its ADDED event.
    static func creationVersions(_ events: [JSONValue]) -> [String: Int] {
        var versions: [String: Int] = [:]
        for event in events where event["type"] == "ADDED" {
            guard let object = event["object"], let version = Int(object["metadata"]?["resourceVersion"]?.stringValue ?? "") else { continue }
            versions[object.name] = version
        }
        return versions
    }

    @Test func parallelCreatesAllAtOnce() async throws {
        try await withServer(configuration: simulatedWorkloads(podReadyDelay: .seconds(2))) { server, client in
            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            try await client.post(statefulSetsPath, statefulSet("par", replicas: 3, policy: "Parallel"))
            try await eventually("3 ready") { try await client.get("\(statefulSetsPath)/par").body["status"]?["readyReplicas"] == 3 ? true : nil }
            // With Parallel, every pod is created without waiting for another to become ready.
            let events = try await recorder.snapshot { events in
                Set(events.filter { $0["object"]?.ready == true }.map { $0["object"]?.name ?? "" }).count == 3
            }
            let firstReady = try #require(index(events) { $0["object"]?.ready == true })
            let lastAdded = try #require(events.lastIndex { $0["type"] == "ADDED" })
            #expect(lastAdded < firstReady)
            #expect(events.filter { $0["type"] == "ADDED" }.count == 3)
        }
    }

    @Test func rollingUpdateFromTheHighestOrdinal() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(statefulSetsPath, statefulSet("roll"))
            let before = try await eventually("3 ready") { () -> JSONValue? in
                let set = try await client.get("\(statefulSetsPath)/roll").body
                return set["status"]?["readyReplicas"] == 3 ? set : nil
            }
            let oldRevision = try #require(before["status"]?["currentRevision"]?.stringValue)
            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            try await client.mergePatch(
                "\(statefulSetsPath)/roll", ["spec": ["template": ["spec": ["containers": [["name": "db", "image": "qdrant/qdrant:v1.13.0"]]]]]])
            let after = try await eventually("rollout complete") { () -> JSONValue? in
                let set = try await client.get("\(statefulSetsPath)/roll").body
                let status = set["status"]
                // The status must be of the patched spec: right after the patch the old one still reads as complete.
                guard status?["observedGeneration"] != nil, status?["observedGeneration"] == set["metadata"]?["generation"] else { return nil }
                return status?["updatedReplicas"] == 3 && status?["readyReplicas"] == 3 && status?["currentRevision"] == status?["updateRevision"] ? set : nil
            }
            let newRevision = try #require(after["status"]?["updateRevision"]?.stringValue)
            #expect(newRevision != oldRevision)
            #expect(newRevision.hasPrefix("roll-"))
            #expect(after["status"]?["observedGeneration"] == 2)
            for pod in try await client.items(podsPath) {
                #expect(pod["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue == newRevision)
                #expect(pod["spec"]?["containers"]?[0]?["image"] == "qdrant/qdrant:v1.13.0")
            }
            let events = try await recorder.snapshot { events in
                events.contains {
                    $0["object"]?.name == "roll-0" && $0["object"]?.ready == true
                        && $0["object"]?["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue == newRevision
                }
            }
            let order = ["roll-2", "roll-1", "roll-0"].map { name in
                events.firstIndex { $0["object"]?.name == name && $0["object"]?.terminating == true } ?? -1
            }
            #expect(!order.contains(-1))
            #expect(order == order.sorted(), "pods were replaced out of order: \(order)")
            // One at a time: a pod is replaced only once the one above it is back and Ready at the new revision.
            for (upper, lower) in [("roll-2", "roll-1"), ("roll-1", "roll-0")] {
                let upperReady = try #require(
                    events.firstIndex {
                        $0["object"]?.name == upper && $0["object"]?.ready == true
                            && $0["object"]?["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue == newRevision
                    })
                let lowerLeaves = try #require(events.firstIndex { $0["object"]?.name == lower && $0["object"]?.terminating == true })
                #expect(upperReady < lowerLeaves)
            }
            #expect(after["status"]?["currentReplicas"] == 3)
        }
    }

    @Test func onDeleteWaitsForDeletedPods() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            try await client.post(statefulSetsPath, statefulSet("manual", replicas: 2, updateStrategy: "OnDelete"))
            try await eventually("2 ready") { try await client.get("\(statefulSetsPath)/manual").body["status"]?["readyReplicas"] == 2 ? true : nil }
            let original = Dictionary(uniqueKeysWithValues: try await client.items(podsPath).map { ($0.name, $0["metadata"]?["uid"]) })
            try await client.mergePatch("\(statefulSetsPath)/manual", ["spec": ["template": ["metadata": ["annotations": ["rev": "2"]]]]])
            // Once the controller has seen generation 2 (and written its status in that same pass), nothing was replaced.
            let seen = try await eventually("generation 2 observed") { () -> JSONValue? in
                let set = try await client.get("\(statefulSetsPath)/manual").body
                return set["status"]?["observedGeneration"] == 2 ? set : nil
            }
            let newRevision = try #require(seen["status"]?["updateRevision"]?.stringValue)
            #expect(seen["status"]?["currentRevision"]?.stringValue != newRevision)
            #expect(seen["status"]?["updatedReplicas"] == nil)
            let untouched = try await client.items(podsPath)
            #expect(Dictionary(uniqueKeysWithValues: untouched.map { ($0.name, $0["metadata"]?["uid"]) }) == original)
            #expect(untouched.allSatisfy { $0["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue != newRevision })

            try await client.delete("\(podsPath)/manual-1")
            let replaced = try await eventually("manual-1 recreated at the new revision") { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/manual-1")
                guard pod.status == 200, pod.body["metadata"]?["uid"] != original["manual-1"], pod.body.ready else { return nil }
                return pod.body
            }
            #expect(replaced["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue == newRevision)
            #expect(replaced["metadata"]?["annotations"]?["rev"] == "2")
            let other = try await client.get("\(podsPath)/manual-0").body
            #expect(other["metadata"]?["uid"] == original["manual-0"])
            try await eventually("one updated replica") {
                try await client.get("\(statefulSetsPath)/manual").body["status"]?["updatedReplicas"] == 1 ? true : nil
            }
        }
    }
}
