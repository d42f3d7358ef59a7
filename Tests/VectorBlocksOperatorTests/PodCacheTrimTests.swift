import KubeKit
import Testing

@testable import VectorBlocksOperator

@Suite("Pods as the operator caches them")
struct PodCacheTrimTests {
    @Test func theSpecIsCutToTheNodeAndLabelsAndStatusStay() throws {
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "db-0", "namespace": "default", "labels": ["role": "primary"]],
            "spec": [
                "nodeName": "node-2",
                "containers": [["name": "postgres", "image": "pgvector:16", "env": [["name": "PGDATA", "value": "/data"]]]],
                "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": "data-db-0"]]],
            ],
            "status": [
                "phase": "Running", "podIP": "10.0.0.7",
                "conditions": [["type": "Ready", "status": "True"]],
                "containerStatuses": [["name": "postgres", "ready": true, "restartCount": 2, "image": "pgvector:16", "imageID": ""]],
            ],
        ]
        let before = try pod.decode(as: CoreV1.Pod.self)
        OperatorCaches.trimPod(&pod)
        let cached = try pod.decode(as: CoreV1.Pod.self)

        #expect(cached.spec == CoreV1.PodSpec(containers: [], nodeName: "node-2"))
        #expect(cached.metadata == before.metadata && cached.status == before.status)
        // What the controllers decide from a pod reads the same on the cut copy.
        #expect(PodEvents.fingerprint(cached) == PodEvents.fingerprint(before))
    }

    @Test func aPodNotYetScheduledHasNoNode() throws {
        var pod: JSONValue = ["metadata": ["name": "db-0"], "spec": ["containers": [["name": "postgres"]]]]
        OperatorCaches.trimPod(&pod)
        #expect(try pod.decode(as: CoreV1.Pod.self).spec == CoreV1.PodSpec(containers: []))
    }
}
