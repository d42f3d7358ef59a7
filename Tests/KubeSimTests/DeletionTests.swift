import KubeKit
import KubeSim
import Testing

@Suite struct DeletionTests {
    @Test func finalizerHoldsDeletion() async throws {
        try await withServer { _, client in
            var body = configMap("held")
            body["metadata"]?["finalizers"] = ["example.com/hold"]
            let created = try await client.post("/api/v1/namespaces/default/configmaps", body)
            let path = "/api/v1/namespaces/default/configmaps/held"

            let wrongUID = try await client.delete(path, ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": "nope"]])
            #expect(wrongUID.status == 409)

            let deleting = try await client.delete(
                path, ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": created.body["metadata"]?["uid"].map { ["uid": $0] } ?? .null])
            #expect(deleting.status == 200)
            #expect(deleting.body["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            #expect(deleting.body["metadata"]?["deletionGracePeriodSeconds"] == 0)
            let still = try await client.get(path)
            #expect(still.status == 200)

            let released = try await client.patch(path, ["metadata": ["finalizers": .null]], type: "application/merge-patch+json")
            #expect(released.status == 200)
            #expect(try await client.get(path).status == 404)
        }
    }

    @Test func garbageCollectsDependents() async throws {
        try await withServer { _, client in
            let owner = try await client.post("/apis/apps/v1/namespaces/default/deployments", deployment("owner"))
            let uid = owner.body["metadata"]?["uid"] ?? .null
            func dependent(_ name: String, block: Bool = false) -> JSONValue {
                var body = configMap(name)
                body["metadata"]?["ownerReferences"] = [
                    [
                        "apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": uid, "controller": true,
                        "blockOwnerDeletion": .bool(block),
                    ]
                ]
                return body
            }
            try await client.post("/api/v1/namespaces/default/configmaps", dependent("dep"))
            try await client.delete("/apis/apps/v1/namespaces/default/deployments/owner")
            #expect(try await client.get("/api/v1/namespaces/default/configmaps/dep").status == 404)

            // Orphan keeps the dependent and drops its owner reference.
            let owner2 = try await client.post("/apis/apps/v1/namespaces/default/deployments", deployment("owner"))
            var orphan = dependent("orphan")
            orphan["metadata"]?["ownerReferences"] = [
                ["apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": owner2.body["metadata"]?["uid"] ?? .null]
            ]
            try await client.post("/api/v1/namespaces/default/configmaps", orphan)
            try await client.delete("/apis/apps/v1/namespaces/default/deployments/owner?propagationPolicy=Orphan")
            let kept = try await client.get("/api/v1/namespaces/default/configmaps/orphan")
            #expect(kept.status == 200)
            #expect(kept.body["metadata"]?["ownerReferences"] == nil)

            // Foreground: the owner waits, with the foregroundDeletion finalizer, until blocking dependents are gone.
            let owner3 = try await client.post("/apis/apps/v1/namespaces/default/deployments", deployment("fg"))
            var blocking = configMap("blocking")
            blocking["metadata"]?["finalizers"] = ["example.com/slow"]
            blocking["metadata"]?["ownerReferences"] = [
                ["apiVersion": "apps/v1", "kind": "Deployment", "name": "fg", "uid": owner3.body["metadata"]?["uid"] ?? .null, "blockOwnerDeletion": true]
            ]
            try await client.post("/api/v1/namespaces/default/configmaps", blocking)
            let fg = try await client.delete(
                "/apis/apps/v1/namespaces/default/deployments/fg", ["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"])
            #expect(fg.body["metadata"]?["finalizers"] == ["foregroundDeletion"])
            #expect(try await client.get("/apis/apps/v1/namespaces/default/deployments/fg").status == 200)
            let dependentState = try await client.get("/api/v1/namespaces/default/configmaps/blocking")
            #expect(dependentState.body["metadata"]?["deletionTimestamp"] != nil)
            try await client.patch("/api/v1/namespaces/default/configmaps/blocking", ["metadata": ["finalizers": .null]], type: "application/merge-patch+json")
            #expect(try await client.get("/api/v1/namespaces/default/configmaps/blocking").status == 404)
            #expect(try await client.get("/apis/apps/v1/namespaces/default/deployments/fg").status == 404)
        }
    }

    /// The collector's verdicts follow updates, too: an object given an owner that is gone is collected, a finalizer
    /// added to a live owner changes nothing, and a held owner's last finalizer going takes its dependents with it.
    @Test func updatesThatChangeOwnershipAreCollected() async throws {
        try await withServer { _, client in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            try await client.post(configMaps, configMap("stray"))
            try await client.mergePatch(
                "\(configMaps)/stray", ["metadata": ["ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "gone", "uid": "no-such-uid"]]]])
            #expect(try await client.get("\(configMaps)/stray").status == 404)

            let owner = try await client.post(configMaps, configMap("owner")).body
            var child = configMap("child")
            child["metadata"]?["ownerReferences"] = [["apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]?["uid"] ?? .null]]
            try await client.post(configMaps, child)
            try await client.mergePatch("\(configMaps)/owner", ["metadata": ["finalizers": ["example.com/hold"]]])
            #expect(try await client.get("\(configMaps)/child").status == 200)

            try await client.delete("\(configMaps)/owner")
            #expect(try await client.get("\(configMaps)/owner").body["metadata"]?["deletionTimestamp"] != nil)
            try await client.mergePatch("\(configMaps)/owner", ["metadata": ["finalizers": .null]])
            #expect(try await client.get("\(configMaps)/owner").status == 404)
            #expect(try await client.get("\(configMaps)/child").status == 404)
        }
    }

    @Test func namespaceDeletionEmptiesThenRemoves() async throws {
        try await withServer { _, client in
            try await client.post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "doomed"]])
            var held = configMap("held", namespace: "doomed")
            held["metadata"]?["finalizers"] = ["example.com/hold"]
            try await client.post("/api/v1/namespaces/doomed/configmaps", held)
            try await client.post("/api/v1/namespaces/doomed/configmaps", configMap("free", namespace: "doomed"))

            let deleting = try await client.delete("/api/v1/namespaces/doomed")
            #expect(deleting.status == 200)
            let terminating = try await client.get("/api/v1/namespaces/doomed")
            #expect(terminating.body["status"]?["phase"] == "Terminating")
            #expect(try await client.get("/api/v1/namespaces/doomed/configmaps/free").status == 404)
            let refused = try await client.post("/api/v1/namespaces/doomed/configmaps", configMap("late", namespace: "doomed"))
            #expect(refused.status == 403)

            try await client.patch("/api/v1/namespaces/doomed/configmaps/held", ["metadata": ["finalizers": .null]], type: "application/merge-patch+json")
            #expect(try await client.get("/api/v1/namespaces/doomed").status == 404)
        }
    }

    @Test func deleteCollection() async throws {
        try await withServer { _, client in
            for index in 0..<3 {
                try await client.post("/api/v1/namespaces/default/configmaps", configMap("d\(index)", labels: ["drop": index < 2 ? "yes" : "no"]))
            }
            let result = try await client.delete("/api/v1/namespaces/default/configmaps?labelSelector=drop%3Dyes")
            #expect(result.status == 200)
            #expect(result.body["items"]?.arrayValue?.count == 2)
            let left = try await client.get("/api/v1/namespaces/default/configmaps")
            #expect(left.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["d2"])
        }
    }
}
