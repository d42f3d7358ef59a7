import Foundation
import KubeKit
import KubeSim
import Testing

@Suite struct KubeletTests {
    func pod(_ name: String, image: String = "busybox:1.36") -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": "solo"]],
            "spec": ["containers": [["name": "main", "image": .string(image)], ["name": "sidecar", "image": "envoy:1"]]],
        ]
    }

    @Test func podsBecomeRunningAndReady() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            for index in 0..<4 { try await client.post(podsPath, pod("p\(index)")) }
            let running = try await eventually("4 ready pods") { () -> [JSONValue]? in
                let items = try await client.items(podsPath)
                return items.count == 4 && items.allSatisfy(\.ready) ? items : nil
            }
            let nodes = try await client.items("/api/v1/nodes")
            #expect(nodes.count == 3)
            #expect(nodes.allSatisfy { $0["status"]?["conditions"]?[0]?["type"] == "Ready" })
            let nodeNames = Set(nodes.map(\.name))
            var ips: Set<String> = []
            for pod in running {
                let status = try #require(pod["status"])
                #expect(status["phase"] == "Running")
                let ip = try #require(status["podIP"]?.stringValue)
                #expect(ip.hasPrefix("10.244."))
                ips.insert(ip)
                #expect(status["podIPs"]?[0]?["ip"]?.stringValue == ip)
                #expect(status["hostIP"]?.stringValue?.hasPrefix("172.18.0.") == true)
                #expect(status["startTime"]?.stringValue != nil)
                #expect(nodeNames.contains(pod["spec"]?["nodeName"]?.stringValue ?? ""))
                let containers = status["containerStatuses"]?.arrayValue ?? []
                #expect(containers.map { $0["name"]?.stringValue } == ["main", "sidecar"])
                #expect(containers.map { $0["image"]?.stringValue } == ["busybox:1.36", "envoy:1"])
                #expect(containers.allSatisfy { $0["ready"] == true && $0["started"] == true && $0["restartCount"] == 0 && $0["state"]?["running"] != nil })
                let conditions = Dictionary(
                    uniqueKeysWithValues: (status["conditions"]?.arrayValue ?? []).map { ($0["type"]?.stringValue ?? "", $0["status"]?.stringValue ?? "") })
                for type in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] { #expect(conditions[type] == "True", "\(type)") }
            }
            #expect(ips.count == 4)
            let onRunning = try await client.get("\(podsPath)?fieldSelector=status.phase%3DRunning")
            #expect(onRunning.body["items"]?.arrayValue?.count == 4)
        }
    }

    @Test func pendingUntilTheDelayAndGracefulDeletion() async throws {
        try await withServer(configuration: simulatedWorkloads(podReadyDelay: .seconds(3))) { server, client in
            try await client.post(podsPath, pod("slow"))
            let scheduled = try await eventually("scheduled") { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/slow").body
                return pod["spec"]?["nodeName"] != nil && pod["status"]?["containerStatuses"] != nil ? pod : nil
            }
            // Until the delay is over the pod is Pending with its containers being created (a lower bound, so a
            // slow machine cannot break it).
            #expect(scheduled["status"]?["phase"] == "Pending")
            #expect(scheduled["status"]?["containerStatuses"]?[0]?["state"]?["waiting"]?["reason"] == "ContainerCreating")
            #expect(!scheduled.ready)
            try await eventually("ready") { try await client.get("\(podsPath)/slow").body.ready ? true : nil }

            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            let deleted = try await client.delete("\(podsPath)/slow")
            #expect(deleted.status == 200)
            #expect(deleted.body["metadata"]?["deletionTimestamp"] != nil)
            #expect(deleted.body["metadata"]?["deletionGracePeriodSeconds"] == 30)
            try await eventually("removed") { try await client.get("\(podsPath)/slow").status == 404 ? true : nil }
            let types = try await recorder.snapshot { $0.contains { $0["type"] == "DELETED" } }.map { $0["type"]?.stringValue ?? "" }
            #expect(types.first == "MODIFIED")
            #expect(types.last == "DELETED")
        }
    }

    @Test func failedPodsAreReplacedAndReadinessCanFlap() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(statefulSetsPath, statefulSet("q", replicas: 2))
            try await eventually("2 ready") { try await client.get("\(statefulSetsPath)/q").body["status"]?["readyReplicas"] == 2 ? true : nil }
            let before = try await client.get("\(podsPath)/q-1").body

            let recorder = try await WatchRecorder(server, podsPath)
            defer { recorder.stop() }
            try await server.failPod("q-1", message: "OOMKilled")
            let recreated = try await eventually("q-1 replaced") { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/q-1")
                return pod.status == 200 && pod.body["metadata"]?["uid"] != before["metadata"]?["uid"] && pod.body.ready ? pod.body : nil
            }
            #expect(recreated["status"]?["phase"] == "Running")
            let events = try await recorder.snapshot { $0.contains { $0["object"]?["status"]?["phase"] == "Failed" } }
            let failed = try #require(events.first { $0["object"]?["status"]?["phase"] == "Failed" }?["object"])
            #expect(failed["metadata"]?["uid"] == before["metadata"]?["uid"])
            #expect(failed["status"]?["containerStatuses"]?[0]?["state"]?["terminated"]?["message"] == "OOMKilled")
            #expect(!failed.ready)

            try await server.setPodReady(false, "q-0", container: "db")
            let unready = try await client.get("\(podsPath)/q-0").body
            #expect(!unready.ready)
            #expect(unready["status"]?["phase"] == "Running")
            #expect(unready["status"]?["containerStatuses"]?[0]?["ready"] == false)
            try await eventually("readyReplicas 1") { try await client.get("\(statefulSetsPath)/q").body["status"]?["readyReplicas"] == 1 ? true : nil }
            try await server.setPodReady(true, "q-0", container: "db")
            #expect(try await client.get("\(podsPath)/q-0").body.ready)
            try await eventually("readyReplicas 2") { try await client.get("\(statefulSetsPath)/q").body["status"]?["readyReplicas"] == 2 ? true : nil }

            await #expect(throws: KubeSimError.podNotFound(namespace: "default", name: "nope")) { try await server.failPod("nope") }
        }
    }

    @Test func lostPodsAreRecreatedByTheirController() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(deploymentsPath, deployment("web", replicas: 2))
            let first = try await eventually("2 ready") { () -> [JSONValue]? in
                let items = try await client.items(podsPath)
                return items.count == 2 && items.allSatisfy(\.ready) ? items : nil
            }
            let lost = first[0].name
            try await server.losePod(lost)
            #expect(try await client.get("\(podsPath)/\(lost)").status == 404)
            let replaced = try await eventually("a replacement") { () -> [JSONValue]? in
                let items = try await client.items(podsPath)
                return items.count == 2 && !items.contains { $0.name == lost } && items.allSatisfy(\.ready) ? items : nil
            }
            #expect(replaced.contains { $0.name == first[1].name })

            try await server.failPod(first[1].name)
            // A Deployment leaves the failed pod (as the ReplicaSet controller does) and starts another.
            try await eventually("a pod for the failed one") { () -> Bool? in
                let items = try await client.items(podsPath)
                return items.filter { $0.ready }.count == 2 && items.contains { $0.name == first[1].name && $0["status"]?["phase"] == "Failed" } ? true : nil
            }
        }
    }

    @Test func podControlsNeedTheSimulation() async throws {
        try await withServer { server, client in
            try await client.post(podsPath, pod("plain"))
            await #expect(throws: KubeSimError.workloadsNotSimulated) { try await server.failPod("plain") }
            // Without a kubelet a deleted pod goes at once, as it always did.
            try await client.delete("\(podsPath)/plain")
            #expect(try await client.get("\(podsPath)/plain").status == 404)
        }
    }
}
