import KubeKit
import KubeSim
import Testing

@Suite struct CRDTests {
    @Test func registerServeAndRemoveCustomResources() async throws {
        try await withServer { _, client in
            #expect(try await client.get("/apis/example.com/v1").status == 404)
            let created = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
            #expect(created.status == 201)
            let conditions = created.body["status"]?["conditions"]?.arrayValue ?? []
            #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
            #expect(conditions.contains { $0["type"] == "NamesAccepted" && $0["status"] == "True" })
            #expect(created.body["status"]?["acceptedNames"]?["kind"] == "Widget")

            let discovery = try await client.get("/apis/example.com/v1")
            #expect(discovery.status == 200)
            let names = discovery.body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["widgets", "widgets/status"])
            #expect(discovery.body["resources"]?.arrayValue?.first?["shortNames"] == ["wd"])
            let groups = try await client.get("/apis")
            #expect(groups.body["groups"]?.arrayValue?.contains { $0["name"] == "example.com" } == true)

            let widget: JSONValue = [
                "apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w1"], "spec": ["size": 3], "status": ["ready": true],
            ]
            let made = try await client.post("/apis/example.com/v1/namespaces/default/widgets", widget)
            #expect(made.status == 201)
            #expect(made.body["status"] == nil)
            #expect(made.body["metadata"]?["generation"] == 1)
            let status = try await client.patch(
                "/apis/example.com/v1/namespaces/default/widgets/w1/status", ["status": ["ready": true]], type: "application/merge-patch+json")
            #expect(status.body["status"]?["ready"] == true)
            #expect(status.body["metadata"]?["generation"] == 1)
            let spec = try await client.patch("/apis/example.com/v1/namespaces/default/widgets/w1", ["spec": ["size": 4]], type: "application/merge-patch+json")
            #expect(spec.body["metadata"]?["generation"] == 2)
            let list = try await client.get("/apis/example.com/v1/widgets")
            #expect(list.body["kind"] == "WidgetList")
            #expect(list.body["items"]?.arrayValue?.count == 1)
            let strategic = try await client.patch(
                "/apis/example.com/v1/namespaces/default/widgets/w1", ["spec": ["size": 5]], type: "application/strategic-merge-patch+json")
            #expect(strategic.status == 415)

            let badCRD = try await client.post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                [
                    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "wrong.example.com"],
                    "spec": widgetCRD["spec"] ?? .null,
                ])
            #expect(badCRD.status == 422)

            let removed = try await client.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
            #expect(removed.status == 200)
            #expect(try await client.get("/apis/example.com/v1").status == 404)
            #expect(try await client.get("/apis/example.com/v1/namespaces/default/widgets/w1").status == 404)
        }
    }

    @Test func discoveryDocuments() async throws {
        try await withServer { _, client in
            let version = try await client.get("/version")
            #expect(version.body["major"] == "1")
            #expect(version.body["minor"] == "32")
            #expect(version.body["gitVersion"] == "v1.32.0")
            let core = try await client.get("/api")
            #expect(core.body["versions"] == ["v1"])
            let v1 = try await client.send(
                .GET, "/api/v1", headers: [("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")])
            #expect(v1.contentType == "application/json")
            let resources = v1.body["resources"]?.arrayValue ?? []
            let pods = resources.first { $0["name"] == "pods" }
            #expect(pods?["shortNames"] == ["po"])
            #expect(pods?["categories"] == ["all"])
            #expect(pods?["namespaced"] == true)
            #expect(pods?["kind"] == "Pod")
            #expect(resources.contains { $0["name"] == "pods/status" })
            #expect(resources.first { $0["name"] == "namespaces" }?["namespaced"] == false)
            let apps = try await client.get("/apis/apps/v1")
            let sts = apps.body["resources"]?.arrayValue?.first { $0["name"] == "statefulsets" }
            #expect(sts?["shortNames"] == ["sts"])
            #expect(sts?["verbs"]?.arrayValue?.count == 8)
            #expect(apps.body["resources"]?.arrayValue?.contains { $0["name"] == "statefulsets/scale" } == true)
            let groups = try await client.get("/apis")
            let appsGroup = groups.body["groups"]?.arrayValue?.first { $0["name"] == "apps" }
            #expect(appsGroup?["preferredVersion"]?["version"] == "v1")
            #expect(try await client.get("/healthz").status == 200)
            #expect(try await client.get("/readyz").status == 200)
            let openAPI = try await client.get("/openapi/v2")
            #expect(openAPI.body["definitions"]?["io.k8s.api.apps.v1.StatefulSet"] != nil)
            let v3 = try await client.get("/openapi/v3")
            #expect(v3.body["paths"]?["apis/apps/v1"]?["serverRelativeURL"]?.stringValue?.hasPrefix("/openapi/v3/apis/apps/v1?hash=") == true)
            #expect(try await client.get("/nonsense").status == 404)
        }
    }
}
