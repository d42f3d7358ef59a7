import Foundation
import KubeKit
import KubeSim
import Testing

/// `KubeSimServer.stopNode` as a real node loss goes: the Node Ready Unknown and tainted unreachable, its pods not
/// ready, new pods scheduled on the other nodes, a graceful delete of a pod there never finishing (no kubelet is left
/// to stop it), and a force delete letting the StatefulSet make the pod again on a node that is up.
@Suite struct NodeLossTests {
    @Test func aLostNodesStatefulSetPodComesBackElsewhereOnlyOnceForceDeleted() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(statefulSetsPath, statefulSet("db", replicas: 3))
            let pods = try await eventually("3 ready pods") { () -> [JSONValue]? in
                let items = try await client.items(podsPath)
                return items.count == 3 && items.allSatisfy(\.ready) ? items : nil
            }
            let victim = try #require(pods.first { $0.name == "db-1" })
            let lostNode = try #require(victim["spec"]?["nodeName"]?.stringValue)
            await #expect(throws: KubeSimError.nodeNotFound("nope")) { try await server.stopNode("nope") }

            try await server.stopNode(lostNode)
            let node = try await client.get("/api/v1/nodes/\(lostNode)").body
            #expect(node["status"]?["conditions"]?[0]?["status"] == "Unknown")
            let taints = node["spec"]?["taints"]?.arrayValue ?? []
            #expect(Set(taints.compactMap { $0["effect"]?.stringValue }) == ["NoSchedule", "NoExecute"])
            #expect(taints.allSatisfy { $0["key"] == "node.kubernetes.io/unreachable" })
            _ = try await eventually("db-1 not ready") { () -> Bool? in
                let pod = try await client.get("\(podsPath)/db-1").body
                let ready = pod["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
                return ready?["status"] == "False" && ready?["reason"] == "NodeLost" ? true : nil
            }
            #expect(try await client.get("\(podsPath)/db-0").body.ready, "pods of other nodes stay ready")

            // Deleted with a grace period, it stays Terminating: nobody is there to stop its containers.
            try await client.delete("\(podsPath)/db-1")
            try await client.post(
                podsPath, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "probe"], "spec": ["containers": [["name": "c", "image": "busybox:1"]]]])
            _ = try await eventually("a new pod scheduled and ready") { () -> Bool? in try await client.get("\(podsPath)/probe").body.ready ? true : nil }
            #expect(try await client.get("\(podsPath)/probe").body["spec"]?["nodeName"]?.stringValue != lostNode, "nothing is scheduled on a lost node")
            let terminating = try await client.get("\(podsPath)/db-1").body
            #expect(terminating["metadata"]?["deletionTimestamp"] != nil)
            #expect(terminating["metadata"]?["uid"] == victim["metadata"]?["uid"])

            try await client.delete("\(podsPath)/db-1", ["apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0])
            let back = try await eventually("db-1 back and ready on another node") { () -> JSONValue? in
                let pod = try await client.get("\(podsPath)/db-1").body
                return pod["metadata"]?["uid"] != victim["metadata"]?["uid"] && pod.ready ? pod : nil
            }
            #expect(back["spec"]?["nodeName"]?.stringValue != lostNode)
        }
    }
}
