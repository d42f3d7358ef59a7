import Foundation
import KubeKit
import KubeSim
import Testing

@Suite struct DeploymentTests {
    @Test func podsStatusAndRollingReplacementWithinBounds() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            #expect(try await client.post(deploymentsPath, deployment("api", replicas: 4, image: "emu:1")).status == 201)
            let first = try await eventually("4 available") { () -> JSONValue? in
                let deployment = try await client.get("\(deploymentsPath)/api").body
                return deployment["status"]?["availableReplicas"] == 4 ? deployment : nil
            }
            let status = try #require(first["status"])
            #expect(status["replicas"] == 4)
            #expect(status["readyReplicas"] == 4)
            #expect(status["updatedReplicas"] == 4)
            #expect(status["observedGeneration"] == 1)
            let available = status["conditions"]?.arrayValue?.first { $0["type"] == "Available" }
            #expect(available?["status"] == "True")
            #expect(available?["reason"] == "MinimumReplicasAvailable")
            let progressing = status["conditions"]?.arrayValue?.first { $0["type"] == "Progressing" }
            #expect(progressing?["reason"] == "NewReplicaSetAvailable")
            let firstPods = try await client.items(podsPath)
            #expect(firstPods.count == 4)
            let hash = try #require(firstPods.first?["metadata"]?["labels"]?["pod-template-hash"]?.stringValue)
            for pod in firstPods {
                #expect(pod.name.range(of: "^api-\(hash)-[a-z0-9]{5}$", options: .regularExpression) != nil, "\(pod.name)")
                #expect(pod["metadata"]?["labels"]?["app"] == "api")
                #expect(pod["metadata"]?["ownerReferences"]?[0]?["uid"] == first["metadata"]?["uid"])
            }

            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            try await client.mergePatch("\(deploymentsPath)/api", ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "emu:2"]]]]]])
            let rolled = try await eventually("rollout complete") { () -> JSONValue? in
                let deployment = try await client.get("\(deploymentsPath)/api").body
                let status = deployment["status"]
                let done =
                    status?["observedGeneration"] == 2 && status?["updatedReplicas"] == 4 && status?["replicas"] == 4
                    && status?["availableReplicas"] == 4
                return done ? deployment : nil
            }
            let pods = try await eventually("old pods gone") { () -> [JSONValue]? in
                let items = try await client.items(podsPath)
                return items.count == 4 ? items : nil
            }
            let newHash = try #require(pods.first?["metadata"]?["labels"]?["pod-template-hash"]?.stringValue)
            #expect(newHash != hash)
            #expect(pods.allSatisfy { $0["metadata"]?["labels"]?["pod-template-hash"]?.stringValue == newHash })
            #expect(pods.allSatisfy { $0["spec"]?["containers"]?[0]?["image"] == "emu:2" })
            #expect(rolled["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Progressing" }?["reason"] == "NewReplicaSetAvailable")

            // Replay the rollout: never more than replicas + maxSurge (25% of 4 = 1) pods, never fewer than
            // replicas - maxUnavailable (4 - 1) ready.
            var live: [String: JSONValue] = Dictionary(uniqueKeysWithValues: firstPods.map { ($0.name, $0) })
            var mostPods = 0
            var fewestReady = Int.max
            let events = try await recorder.snapshot { events in
                events.filter { $0["type"] == "DELETED" }.count == 4
                    && Set(
                        events.filter { $0["object"]?.ready == true && $0["object"]?["metadata"]?["labels"]?["pod-template-hash"]?.stringValue == newHash }.map
                        { $0["object"]?.name ?? "" }
                    ).count == 4
            }
            for event in events {
                guard let object = event["object"], let type = event["type"]?.stringValue else { continue }
                if type == "DELETED" || object.terminating { live[object.name] = nil } else { live[object.name] = object }
                mostPods = max(mostPods, live.count)
                fewestReady = min(fewestReady, live.values.filter(\.ready).count)
            }
            #expect(mostPods <= 5)
            #expect(fewestReady >= 3)
        }
    }

    @Test func scalingAndRecreate() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            var body = deployment("batch", replicas: 2)
            body["spec"]?["strategy"] = ["type": "Recreate"]
            try await client.post(deploymentsPath, body)
            try await eventually("2 available") { try await client.get("\(deploymentsPath)/batch").body["status"]?["availableReplicas"] == 2 ? true : nil }
            try await client.mergePatch("\(deploymentsPath)/batch", ["spec": ["replicas": 3]])
            try await eventually("3 available") { try await client.get("\(deploymentsPath)/batch").body["status"]?["availableReplicas"] == 3 ? true : nil }
            try await client.mergePatch("\(deploymentsPath)/batch", ["spec": ["replicas": 1]])
            try await eventually("1 pod") { try await client.items(podsPath).count == 1 ? true : nil }
            let survivor = try #require(try await client.items(podsPath).first)
            try await client.mergePatch("\(deploymentsPath)/batch", ["spec": ["template": ["metadata": ["labels": ["app": "batch", "v": "2"]]]]])
            let replaced = try await eventually("the pod recreated") { () -> JSONValue? in
                let items = try await client.items(podsPath)
                return items.count == 1 && items[0].name != survivor.name && items[0].ready ? items[0] : nil
            }
            #expect(replaced["metadata"]?["labels"]?["v"] == "2")
        }
    }
}
