import KubeKit
import Testing

@testable import VectorBlocksOperator

@Suite("Drift")
struct DriftTests {
    let observed: JSONValue = [
        "metadata": ["name": "orders-qdrant", "uid": "u1", "labels": ["app": "qdrant", "added-by-someone": "x"]],
        "spec": [
            "replicas": 3,
            "template": [
                "spec": [
                    "containers": [
                        [
                            "name": "qdrant", "image": "qdrant/qdrant:v1.12.5", "terminationMessagePath": "/dev/termination-log",
                            "resources": ["requests": ["cpu": "500m", "memory": "1Gi"], "limits": ["cpu": "1"]],
                        ]
                    ]
                ]
            ],
        ],
        "status": ["readyReplicas": 3],
    ]

    @Test func whatTheServerAddedIsNoDrift() {
        let desired: JSONValue = [
            "metadata": ["name": "orders-qdrant", "labels": ["app": "qdrant"]],
            "spec": [
                "replicas": 3,
                "template": [
                    "spec": [
                        "containers": [
                            [
                                "name": "qdrant", "image": "qdrant/qdrant:v1.12.5",
                                "resources": ["requests": ["cpu": "0.5", "memory": "1024Mi"], "limits": ["cpu": "1000m"]],
                            ]
                        ]
                    ]
                ],
            ],
        ]
        #expect(Drift.contains(observed, desired))
    }

    @Test func aChangedOrMissingFieldIsDrift() {
        #expect(!Drift.contains(observed, ["spec": ["replicas": 5]]))
        #expect(!Drift.contains(observed, ["metadata": ["labels": ["app": "pgvector"]]]))
        #expect(!Drift.contains(observed, ["metadata": ["annotations": ["checksum": "abc"]]]))
        // A quantity that differs by value, and a string outside a resource list that only looks like one.
        #expect(
            !Drift.contains(
                observed,
                [
                    "spec": ["template": ["spec": ["containers": [["resources": ["limits": ["cpu": "2"]]]]]]]
                ]))
        #expect(!Drift.contains(["metadata": ["name": "0.5"]], ["metadata": ["name": "500m"]]))
        // A list with an item more or less is drift.
        #expect(
            !Drift.contains(
                observed,
                [
                    "spec": ["template": ["spec": ["containers": [["name": "qdrant"], ["name": "sidecar"]]]]]
                ]))
    }

    @Test func integersAndDoublesOfOneValueAgree() {
        #expect(Drift.contains(["spec": ["weight": 1]], ["spec": ["weight": 1.0]]))
        #expect(!Drift.contains(["spec": ["weight": 1]], ["spec": ["weight": 1.5]]))
    }

    @Test func aFieldNoLongerWantedIsDriftThoughTheRestIsContained() throws {
        let wanted: JSONValue = ["metadata": ["name": "web", "annotations": ["kept": "1"]]]
        let before = try Drift.stamped(["metadata": ["name": "web", "annotations": ["kept": "1", "dropped": "2"]]])
        let now = try Drift.stamped(wanted)
        var observed = before
        observed["metadata"]?["uid"] = "u1"
        #expect(Drift.isCurrent(observed, stamped: before))
        #expect(Drift.contains(observed, wanted))
        #expect(!Drift.isCurrent(observed, stamped: now))
        // An object applied before the hash existed is applied once more.
        #expect(!Drift.isCurrent(["metadata": ["name": "web", "annotations": ["kept": "1"]]], stamped: now))
    }

    @Test func aSecretsHashSaysNothingOfItsValuesAndAChangedValueIsStillDrift() throws {
        let secret = { (password: String) -> JSONValue in
            ["kind": "Secret", "metadata": ["name": "conn"], "data": ["password": .string(password)]]
        }
        let first = try Drift.stamped(secret("c2VjcmV0"))
        let second = try Drift.stamped(secret("b3RoZXI="))
        let key = Drift.appliedHashAnnotation
        #expect(first["metadata"]?["annotations"]?[key] == second["metadata"]?["annotations"]?[key])
        #expect(!Drift.isCurrent(first, stamped: second))
        #expect(try Drift.hash(of: secret("x")) != Drift.hash(of: ["kind": "Secret", "metadata": ["name": "conn"], "data": ["user": "x"]]))
    }
}
