import KubeKit
import KubeSim
import Testing

@Suite struct ListWatchTests {
    @Test func selectorsAndPagination() async throws {
        try await withServer { _, client in
            try await client.post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "other"]])
            for index in 0..<5 {
                try await client.post(
                    "/api/v1/namespaces/default/configmaps",
                    configMap("cm\(index)", labels: ["app": index % 2 == 0 ? "even" : "odd", "n": "\(index)"]))
            }
            try await client.post("/api/v1/namespaces/other/configmaps", configMap("elsewhere", namespace: "other", labels: ["app": "even"]))

            let all = try await client.get("/api/v1/configmaps")
            #expect(all.body["kind"] == "ConfigMapList")
            #expect(all.body["apiVersion"] == "v1")
            #expect(all.body["items"]?.arrayValue?.count == 6)
            #expect(all.resourceVersion != nil)

            func names(_ query: String, namespace: String = "default") async throws -> [String] {
                let response = try await client.get("/api/v1/namespaces/\(namespace)/configmaps?\(query)")
                return response.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
            }
            #expect(try await names("labelSelector=app%3Deven") == ["cm0", "cm2", "cm4"])
            #expect(try await names("labelSelector=app%3D%3Dodd") == ["cm1", "cm3"])
            #expect(try await names("labelSelector=app!%3Deven") == ["cm1", "cm3"])
            #expect(try await names("labelSelector=n%20in%20(1,2)") == ["cm1", "cm2"])
            #expect(try await names("labelSelector=n%20notin%20(1,2),app") == ["cm0", "cm3", "cm4"])
            #expect(try await names("labelSelector=!app").isEmpty)
            #expect(try await names("fieldSelector=metadata.name%3Dcm3") == ["cm3"])
            #expect(try await names("fieldSelector=metadata.name!%3Dcm3,metadata.namespace%3Ddefault").count == 4)
            let unsupported = try await client.get("/api/v1/namespaces/default/configmaps?fieldSelector=data.k%3Dv")
            #expect(unsupported.status == 400)
            #expect(unsupported.body["message"] == "field label not supported: data.k")
            let pods = try await client.get("/api/v1/pods?fieldSelector=status.phase%3DRunning")
            #expect(pods.status == 200)

            var collected: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let query = "limit=2" + (token.map { "&continue=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
                let page = try await client.get("/api/v1/namespaces/default/configmaps?\(query)")
                #expect(page.status == 200)
                collected += page.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
                token = page.body["metadata"]?["continue"]?.stringValue
                pages += 1
            } while token != nil && pages < 10
            #expect(collected == ["cm0", "cm1", "cm2", "cm3", "cm4"])
            #expect(pages == 3)
        }
    }

    @Test func watchFromResourceVersionAndSelectorTransitions() async throws {
        try await withServer { _, client in
            let first = try await client.post("/api/v1/namespaces/default/configmaps", configMap("w", labels: ["watched": "yes"]))
            let start = first.resourceVersion ?? "0"
            try await client.patch("/api/v1/namespaces/default/configmaps/w", ["data": ["k": "2"]], type: "application/merge-patch+json")
            try await client.patch("/api/v1/namespaces/default/configmaps/w", ["metadata": ["labels": ["watched": "no"]]], type: "application/merge-patch+json")
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("other", labels: ["watched": "yes"]))
            try await client.delete("/api/v1/namespaces/default/configmaps/other")

            let events = try await client.watch(
                "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(start)&labelSelector=watched%3Dyes&timeoutSeconds=5", count: 4)
            #expect(events.map { $0["type"]?.stringValue ?? "" } == ["MODIFIED", "DELETED", "ADDED", "DELETED"])
            #expect(events.first?["object"]?["data"]?["k"] == "2")
            #expect(events[1]["object"]?["metadata"]?["name"] == "w")

            // Without a resourceVersion the watch starts with the current objects, then the stream ends at its timeout.
            let initial = try await client.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1", count: 100)
            #expect(initial.map { $0["type"]?.stringValue ?? "" } == ["ADDED"])
        }
    }

    @Test func liveWatchAndBookmarks() async throws {
        var configuration = KubeSimConfiguration()
        configuration.bookmarkInterval = .milliseconds(200)
        try await withServer(configuration: configuration) { server, client in
            let rv = await server.currentResourceVersion()
            async let events = client.watch(
                "/apis/apps/v1/namespaces/default/deployments?watch=true&allowWatchBookmarks=true&resourceVersion=\(rv)&timeoutSeconds=10", count: 3)
            // From `rv`, the watch sees the create whether it starts before or after it.
            try await client.post("/apis/apps/v1/namespaces/default/deployments", deployment("live"))
            let received = try await events
            let types = received.compactMap { $0["type"]?.stringValue }
            #expect(types.contains("ADDED"))
            #expect(types.contains("BOOKMARK"))
            let bookmark = received.first { $0["type"] == "BOOKMARK" }
            #expect(bookmark?["object"]?["kind"] == "Deployment")
            #expect(bookmark?["object"]?["apiVersion"] == "apps/v1")
            #expect(bookmark?["object"]?["metadata"]?["resourceVersion"]?.stringValue != nil)
        }
    }

    @Test func tooOldResourceVersionIsGone() async throws {
        var configuration = KubeSimConfiguration()
        configuration.watchHistoryLimit = 4
        try await withServer(configuration: configuration) { _, client in
            for index in 0..<12 {
                try await client.post("/api/v1/namespaces/default/configmaps", configMap("h\(index)"))
            }
            let events = try await client.watch("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2", count: 5)
            #expect(events.count == 1)
            #expect(events.first?["type"] == "ERROR")
            #expect(events.first?["object"]?["code"] == 410)
            #expect(events.first?["object"]?["reason"] == "Expired")
            #expect(events.first?["object"]?["kind"] == "Status")
        }
    }
}
