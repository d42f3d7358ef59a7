import KubeKit
import KubeSim
import Testing

@Suite struct CRUDTests {
    @Test func createGetUpdateDelete() async throws {
        try await withServer { _, client in
            let created = try await client.post("/api/v1/namespaces/default/configmaps", configMap("a"))
            #expect(created.status == 201)
            #expect(created.body["metadata"]?["uid"]?.stringValue?.count == 36)
            #expect(created.body["metadata"]?["creationTimestamp"]?.stringValue?.hasSuffix("Z") == true)
            #expect(created.body["metadata"]?["generation"] == 1)
            let managed = created.body["metadata"]?["managedFields"]?.arrayValue?.first
            #expect(managed?["manager"] == "kubesim-tests")
            #expect(managed?["operation"] == "Update")
            #expect(managed?["fieldsV1"]?["f:data"]?["f:k"] == .object([:]))

            let again = try await client.post("/api/v1/namespaces/default/configmaps", configMap("a"))
            #expect(again.status == 409)
            #expect(again.reason == "AlreadyExists")
            #expect(again.body["kind"] == "Status")
            #expect(again.body["details"]?["name"] == "a")
            #expect(again.body["details"]?["kind"] == "configmaps")

            let fetched = try await client.get("/api/v1/namespaces/default/configmaps/a")
            #expect(fetched.status == 200)
            #expect(fetched.body["data"]?["k"] == "v")

            var changed = fetched.body
            changed["data"]?["k"] = "w"
            let updated = try await client.put("/api/v1/namespaces/default/configmaps/a", changed)
            #expect(updated.status == 200)
            #expect(Int(updated.resourceVersion ?? "") ?? 0 > Int(fetched.resourceVersion ?? "") ?? 0)

            // The stale resourceVersion now conflicts.
            let stale = try await client.put("/api/v1/namespaces/default/configmaps/a", changed)
            #expect(stale.status == 409)
            #expect(stale.reason == "Conflict")
            #expect(stale.body["message"]?.stringValue?.contains("the object has been modified") == true)

            let deleted = try await client.delete("/api/v1/namespaces/default/configmaps/a")
            #expect(deleted.status == 200)
            let missing = try await client.get("/api/v1/namespaces/default/configmaps/a")
            #expect(missing.status == 404)
            #expect(missing.reason == "NotFound")
            #expect(missing.body["message"] == "configmaps \"a\" not found")
            #expect(missing.body["code"] == 404)
            let missingUpdate = try await client.put("/api/v1/namespaces/default/configmaps/a", configMap("a"))
            #expect(missingUpdate.status == 404)
        }
    }

    @Test func validationAndNamespaces() async throws {
        try await withServer { _, client in
            var nameless = configMap("x")
            nameless["metadata"]?["name"] = nil
            let missingName = try await client.post("/api/v1/namespaces/default/configmaps", nameless)
            #expect(missingName.status == 422)
            #expect(missingName.reason == "Invalid")
            #expect(missingName.body["details"]?["causes"]?.arrayValue?.first?["field"] == "metadata.name")

            let badName = try await client.post("/api/v1/namespaces/default/configmaps", configMap("Bad_Name"))
            #expect(badName.status == 422)
            #expect(badName.body["message"]?.stringValue?.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value") == true)

            let wrongKind = try await client.post("/api/v1/namespaces/default/secrets", configMap("x"))
            #expect(wrongKind.status == 400)

            let noNamespace = try await client.post("/api/v1/namespaces/nowhere/configmaps", configMap("x", namespace: "nowhere"))
            #expect(noNamespace.status == 404)
            #expect(noNamespace.body["message"] == "namespaces \"nowhere\" not found")

            var generated = configMap("x")
            generated["metadata"]?["name"] = nil
            generated["metadata"]?["generateName"] = "gen-"
            let made = try await client.post("/api/v1/namespaces/default/configmaps", generated)
            #expect(made.status == 201)
            #expect(made.body["metadata"]?["name"]?.stringValue?.hasPrefix("gen-") == true)
            #expect(made.body["metadata"]?["name"]?.stringValue?.count == 9)

            for name in ["default", "kube-system", "kube-public"] {
                #expect(try await client.get("/api/v1/namespaces/\(name)").status == 200)
            }
            let dryRun = try await client.post("/api/v1/namespaces/default/configmaps?dryRun=All", configMap("dry"))
            #expect(dryRun.status == 201)
            #expect(try await client.get("/api/v1/namespaces/default/configmaps/dry").status == 404)
        }
    }

    @Test func generationAndStatusSubresource() async throws {
        try await withServer { _, client in
            var body = deployment("web")
            body["status"] = ["replicas": 7]
            let created = try await client.post("/apis/apps/v1/namespaces/default/deployments", body)
            #expect(created.status == 201)
            #expect(created.body["status"] == nil)
            #expect(created.body["metadata"]?["generation"] == 1)

            // A label change does not bump generation; a spec change does.
            var labelled = created.body
            labelled["metadata"]?["labels"] = ["team": "a"]
            let afterLabel = try await client.put("/apis/apps/v1/namespaces/default/deployments/web", labelled)
            #expect(afterLabel.body["metadata"]?["generation"] == 1)
            var scaled = afterLabel.body
            scaled["spec"]?["replicas"] = 3
            scaled["status"] = ["replicas": 99]
            let afterSpec = try await client.put("/apis/apps/v1/namespaces/default/deployments/web", scaled)
            #expect(afterSpec.body["metadata"]?["generation"] == 2)
            #expect(afterSpec.body["status"] == nil)  // status is ignored on the main resource

            var withStatus = afterSpec.body
            withStatus["status"] = ["replicas": 3, "observedGeneration": 2]
            withStatus["spec"]?["replicas"] = 10
            let statusWrite = try await client.put("/apis/apps/v1/namespaces/default/deployments/web/status", withStatus)
            #expect(statusWrite.status == 200)
            #expect(statusWrite.body["status"]?["replicas"] == 3)
            #expect(statusWrite.body["spec"]?["replicas"] == 3)  // spec is ignored on /status
            #expect(statusWrite.body["metadata"]?["generation"] == 2)

            let statusPatch = try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web/status",
                ["status": ["readyReplicas": 2]], type: "application/merge-patch+json")
            #expect(statusPatch.body["status"]?["readyReplicas"] == 2)
            #expect(statusPatch.body["status"]?["replicas"] == 3)

            let scale = try await client.get("/apis/apps/v1/namespaces/default/deployments/web/scale")
            #expect(scale.body["kind"] == "Scale")
            #expect(scale.body["spec"]?["replicas"] == 3)
            #expect(scale.body["status"]?["selector"] == "app=web")

            // A no-op update writes nothing.
            let current = try await client.get("/apis/apps/v1/namespaces/default/deployments/web")
            let noop = try await client.put("/apis/apps/v1/namespaces/default/deployments/web", current.body)
            #expect(noop.resourceVersion == current.resourceVersion)
        }
    }

    @Test func authenticationAndAccounting() async throws {
        var configuration = KubeSimConfiguration()
        configuration.tokens = ["secret-token": "alice"]
        try await withServer(configuration: configuration) { server, anonymous in
            let denied = try await anonymous.get("/api/v1/namespaces")
            #expect(denied.status == 401)
            #expect(denied.reason == "Unauthorized")
            let wrong = try await TestClient(server, token: "nope").get("/api/v1/namespaces")
            #expect(wrong.status == 401)
            let client = TestClient(server, token: "secret-token")
            #expect(try await client.get("/api/v1/namespaces").status == 200)
            await server.resetRequestCounts()
            try await client.get("/api/v1/namespaces/default/configmaps")
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("c"))
            try await client.patch("/api/v1/namespaces/default/configmaps/c", ["data": ["x": "y"]], type: "application/merge-patch+json")
            let counts = await server.requestCounts()
            #expect(counts[RequestKey(verb: "list", resource: "configmaps")] == 1)
            #expect(counts[RequestKey(verb: "create", resource: "configmaps")] == 1)
            #expect(counts[RequestKey(verb: "patch", resource: "configmaps")] == 1)
            #expect(counts.filter { $0.key.isWrite }.values.reduce(0, +) == 2)
            let kubeconfig = server.kubeconfigYAML(token: "secret-token")
            #expect(kubeconfig.contains("server: \(server.baseURL)"))
            #expect(kubeconfig.contains("token: secret-token"))
            #expect(kubeconfig.contains("current-context: kube-sim"))
        }
    }
}

@Suite struct ServiceTests {
    @Test func clusterIPAllocationIsKeptAcrossUpdates() async throws {
        try await withServer { _, client in
            let service: JSONValue = [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "db"],
                "spec": ["selector": ["app": "db"], "ports": [["name": "pg", "port": 5432]]],
            ]
            let created = try await client.post("/api/v1/namespaces/default/services", service)
            #expect(created.status == 201)
            let clusterIP = created.body["spec"]?["clusterIP"]?.stringValue
            #expect(clusterIP?.hasPrefix("10.96.") == true)
            #expect(created.body["spec"]?["type"] == "ClusterIP")
            #expect(created.body["spec"]?["ports"]?.arrayValue?.first?["targetPort"] == 5432)
            #expect(created.body["spec"]?["ports"]?.arrayValue?.first?["protocol"] == "TCP")

            var replacement = service
            replacement["metadata"]?["labels"] = ["x": "y"]
            let updated = try await client.put("/api/v1/namespaces/default/services/db", replacement)
            #expect(updated.status == 200)
            #expect(updated.body["spec"]?["clusterIP"]?.stringValue == clusterIP)

            var wrongUID = updated.body
            wrongUID["metadata"]?["uid"] = "00000000-0000-0000-0000-000000000000"
            #expect(try await client.put("/api/v1/namespaces/default/services/db", wrongUID).status == 409)

            var headless = service
            headless["metadata"]?["name"] = "db-headless"
            headless["spec"]?["clusterIP"] = "None"
            let made = try await client.post("/api/v1/namespaces/default/services", headless)
            #expect(made.body["spec"]?["clusterIP"] == "None")
        }
    }
}
