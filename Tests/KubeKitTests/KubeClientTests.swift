import Foundation
import KubeSim
import MetricsTestKit
import TestSupport
import Testing

@testable import KubeKit

/// Every verb of the client against KubeSim on 127.0.0.1, through HTTP, with the API's real answers.
/// Every verb against KubeSim, once over HTTP and once through the in-process transport the controller tests use:
/// the two must agree.
@Suite("KubeClient against KubeSim, over HTTP and in-process")
struct KubeClientTests {
    func configMap(
        _ name: String, namespace: String = "default", labels: [String: String]? = nil, data: [String: String]
    )
        -> CoreV1.ConfigMap
    {
        CoreV1.ConfigMap(data: data, metadata: MetaV1.ObjectMeta(labels: labels, name: name, namespace: namespace))
    }

    @Test(arguments: KubeSimClientTransport.allCases) func createGetUpdateAndConflictOnStaleResourceVersion(over transport: KubeSimClientTransport) async throws
    {
        try await withKubeSim(transport: transport) { _, client in
            let created = try await client.create(configMap("settings", data: ["mode": "fast"]))
            #expect(created.metadata?.uid?.isEmpty == false)
            #expect(created.metadata?.resourceVersion != nil)
            #expect(created.metadata?.creationTimestamp != nil)

            var fetched = try await client.get(CoreV1.ConfigMap.self, name: "settings")
            #expect(fetched.data == ["mode": "fast"])
            fetched.data?["mode"] = "safe"
            let updated = try await client.update(fetched)
            #expect(updated.data == ["mode": "safe"])
            #expect(updated.metadata?.resourceVersion != created.metadata?.resourceVersion)

            // Writing the object as first read, with its old resourceVersion, is a Conflict.
            await #expect {
                try await client.update(created)
            } throws: { error in
                (error as? KubeAPIError)?.isConflict == true
            }

            await #expect {
                try await client.create(configMap("settings", data: [:]))
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isAlreadyExists && error.code == 409 && error.status.details?.name == "settings"
            }
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func notFoundAndInvalidCarryTheServersStatus(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            await #expect {
                try await client.get(CoreV1.ConfigMap.self, name: "absent")
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isNotFound && error.code == 404 && error.status.kind == "Status"
                    && error.message.contains("absent")
            }
            await #expect {
                try await client.create(self.configMap("Not_A_Valid_Name", data: [:]))
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isInvalid && error.causes.contains { $0.field == "metadata.name" }
            }
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func aBodyPastTheServersLimitIsRefusedWith413(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            let large = CoreV1.ConfigMap(data: ["v": String(repeating: "x", count: 33 * 1024 * 1024)], metadata: .init(name: "large"))
            let error = await #expect(throws: KubeAPIError.self) { _ = try await client.create(large) }
            #expect(error?.code == 413)
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func listWithLabelSelectorsAndPagination(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            for index in 0..<7 {
                let tier = index % 2 == 0 ? "db" : "cache"
                _ = try await client.create(configMap("item-\(index)", labels: ["tier": tier], data: ["i": "\(index)"]))
            }
            let databases = try await client.list(
                CoreV1.ConfigMap.self, namespace: "default", options: ListOptions(labelSelector: "tier=db"))
            #expect(databases.items.count == 4)
            let notCache = try await client.list(
                CoreV1.ConfigMap.self, namespace: "default", options: ListOptions(labelSelector: "tier notin (cache)"))
            #expect(notCache.items.count == 4)

            let firstPage = try await client.list(
                CoreV1.ConfigMap.self, namespace: "default", options: ListOptions(limit: 3))
            #expect(firstPage.items.count == 3)
            #expect(firstPage.continueToken != nil)
            let all = try await client.listAll(CoreV1.ConfigMap.self, namespace: "default", options: ListOptions(limit: 3))
            #expect(Set(all.items.compactMap(\.metadata?.name)) == Set((0..<7).map { "item-\($0)" }))
            #expect(all.resourceVersion != nil)

            let byName = try await client.list(
                CoreV1.ConfigMap.self, namespace: nil, options: ListOptions(fieldSelector: "metadata.name=item-3"))
            #expect(byName.items.map(\.metadata?.name) == ["item-3"])
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func patchesMergeJSONAndServerSideApply(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            _ = try await client.create(configMap("patched", labels: ["a": "1"], data: ["k": "v"]))

            let merged = try await client.patch(
                CoreV1.ConfigMap.self, name: "patched",
                patch: .merge(["metadata": ["labels": ["b": "2", "a": nil]], "data": ["k2": "v2"]]))
            #expect(merged.metadata?.labels == ["b": "2"])
            #expect(merged.data == ["k": "v", "k2": "v2"])

            let jsonPatched = try await client.patch(
                CoreV1.ConfigMap.self, name: "patched",
                patch: .json([.test("/data/k", "v"), .replace("/data/k", "v1"), .remove("/data/k2")]))
            #expect(jsonPatched.data == ["k": "v1"])
            await #expect {
                try await client.patch(
                    CoreV1.ConfigMap.self, name: "patched", patch: .json([.test("/data/k", "wrong")]))
            } throws: { error in
                (error as? KubeAPIError)?.isInvalid == true
            }

            // Apply creates what is absent and records the manager.
            let applied = try await client.apply(
                configMap("applied", data: ["owner": "operator"]), fieldManager: "vectorblocks")
            #expect(applied.data == ["owner": "operator"])
            #expect(applied.metadata?.managedFields?.contains { $0.manager == "vectorblocks" && $0.operation == "Apply" } == true)
            // Another manager setting the same field to another value conflicts, naming the field, unless forced.
            await #expect {
                try await client.apply(configMap("applied", data: ["owner": "someone-else"]), fieldManager: "kubectl")
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isConflict && error.message.contains("owner")
            }
            let forced = try await client.apply(
                configMap("applied", data: ["owner": "someone-else"]), fieldManager: "kubectl", force: true)
            #expect(forced.data == ["owner": "someone-else"])
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func statusSubresourceAndGeneration(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            let deployment = AppsV1.Deployment(
                metadata: MetaV1.ObjectMeta(name: "web", namespace: "default"),
                spec: AppsV1.DeploymentSpec(
                    replicas: 1,
                    selector: MetaV1.LabelSelector(matchLabels: ["app": "web"]),
                    template: CoreV1.PodTemplateSpec(
                        metadata: MetaV1.ObjectMeta(labels: ["app": "web"]),
                        spec: CoreV1.PodSpec(containers: [CoreV1.Container(image: "nginx:1.27", name: "web")]))))
            var created = try await client.create(deployment)
            #expect(created.metadata?.generation == 1)

            created.status = AppsV1.DeploymentStatus(observedGeneration: 1, readyReplicas: 1, replicas: 1)
            let withStatus = try await client.updateStatus(created)
            #expect(withStatus.status?.readyReplicas == 1)
            #expect(withStatus.metadata?.generation == 1)

            let scaled = try await client.patch(
                AppsV1.Deployment.self, name: "web", patch: .merge(["spec": ["replicas": 3]]))
            #expect(scaled.metadata?.generation == 2)
            #expect(scaled.status?.readyReplicas == 1)
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func deleteWithPreconditionsFinalizersAndCollections(over transport: KubeSimClientTransport) async throws
    {
        try await withKubeSim(transport: transport) { _, client in
            let created = try await client.create(configMap("doomed", data: [:]))
            await #expect {
                try await client.delete(
                    CoreV1.ConfigMap.self, name: "doomed", preconditions: MetaV1.Preconditions(uid: "not-the-uid"))
            } throws: { error in
                (error as? KubeAPIError)?.isConflict == true
            }
            try await client.delete(
                CoreV1.ConfigMap.self, name: "doomed", preconditions: MetaV1.Preconditions(uid: created.metadata?.uid))
            await #expect(throws: KubeAPIError.self) { try await client.get(CoreV1.ConfigMap.self, name: "doomed") }

            // A finalizer holds the object, marked for deletion, until it is removed.
            var held = configMap("held", data: [:])
            held.metadata?.finalizers = ["example.com/cleanup"]
            _ = try await client.create(held)
            let marked = try await client.delete(CoreV1.ConfigMap.self, name: "held")
            #expect(marked?.metadata?.deletionTimestamp != nil)
            _ = try await client.patch(
                CoreV1.ConfigMap.self, name: "held", patch: .merge(["metadata": ["finalizers": nil]]))
            await #expect(throws: KubeAPIError.self) { try await client.get(CoreV1.ConfigMap.self, name: "held") }

            for index in 0..<3 {
                _ = try await client.create(configMap("batch-\(index)", labels: ["batch": "yes"], data: [:]))
            }
            _ = try await client.create(configMap("keeper", data: [:]))
            try await client.deleteCollection(
                CoreV1.ConfigMap.self, namespace: "default", options: ListOptions(labelSelector: "batch=yes"))
            let left = try await client.list(CoreV1.ConfigMap.self, namespace: "default")
            #expect(left.items.compactMap(\.metadata?.name).filter { $0.hasPrefix("batch-") }.isEmpty)
            #expect(left.items.contains { $0.metadata?.name == "keeper" })
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func deletePropagationOrphansOrCollectsDependents(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            func owned(_ name: String, by owner: CoreV1.ConfigMap) -> CoreV1.ConfigMap {
                var dependent = configMap(name, data: [:])
                dependent.metadata?.ownerReferences = [
                    MetaV1.OwnerReference(
                        apiVersion: "v1", blockOwnerDeletion: true, controller: true, kind: "ConfigMap",
                        name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "")
                ]
                return dependent
            }
            let keptOwner = try await client.create(configMap("owner-orphan", data: [:]))
            _ = try await client.create(owned("orphaned", by: keptOwner))
            try await client.delete(CoreV1.ConfigMap.self, name: "owner-orphan", propagationPolicy: .orphan)
            let orphan = try await client.get(CoreV1.ConfigMap.self, name: "orphaned")
            #expect(orphan.metadata?.ownerReferences?.isEmpty ?? true)

            let owner = try await client.create(configMap("owner-background", data: [:]))
            _ = try await client.create(owned("collected", by: owner))
            try await client.delete(CoreV1.ConfigMap.self, name: "owner-background", propagationPolicy: .background)
            // The garbage collector works in the background: wait for it, boundedly.
            var gone = false
            for _ in 0..<100 where !gone {
                do {
                    _ = try await client.get(CoreV1.ConfigMap.self, name: "collected")
                    try await Task.sleep(for: .milliseconds(50))
                } catch let error as KubeAPIError where error.isNotFound {
                    gone = true
                }
            }
            #expect(gone, "the dependent of a deleted owner must be garbage-collected")
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func watchDeliversTypedEventsBookmarksAndEndsAtTimeout(
        over transport: KubeSimClientTransport
    ) async throws {
        var configuration = KubeSimConfiguration()
        configuration.bookmarkInterval = .milliseconds(200)
        try await withKubeSim(configuration: configuration, transport: transport) { _, client in
            let start = try await client.list(CoreV1.ConfigMap.self, namespace: "default")
            let events = client.watch(
                CoreV1.ConfigMap.self, namespace: "default",
                options: WatchOptions(resourceVersion: start.resourceVersion, timeoutSeconds: 3))
            _ = try await client.create(configMap("watched", data: ["v": "1"]))
            _ = try await client.patch(CoreV1.ConfigMap.self, name: "watched", patch: .merge(["data": ["v": "2"]]))
            try await client.delete(CoreV1.ConfigMap.self, name: "watched")

            var seen: [String] = []
            var bookmarks = 0
            for try await event in events {
                switch event {
                case .added(let object): seen.append("ADDED \(object.data?["v"] ?? "")")
                case .modified(let object): seen.append("MODIFIED \(object.data?["v"] ?? "")")
                case .deleted(let object): seen.append("DELETED \(object.metadata?.name ?? "")")
                case .bookmark(let version):
                    #expect(!version.isEmpty)
                    bookmarks += 1
                case .error(let status): Issue.record("unexpected watch error \(status)")
                }
            }
            // The stream ended by itself when the server's timeoutSeconds passed.
            #expect(seen == ["ADDED 1", "MODIFIED 2", "DELETED watched"])
            #expect(bookmarks >= 1)
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func watchFromAVersionOlderThanHistoryIsGone(over transport: KubeSimClientTransport) async throws {
        var configuration = KubeSimConfiguration()
        configuration.watchHistoryLimit = 5
        try await withKubeSim(configuration: configuration, transport: transport) { _, client in
            let start = try await client.list(CoreV1.ConfigMap.self, namespace: "default")
            for index in 0..<12 {
                _ = try await client.create(configMap("churn-\(index)", data: [:]))
            }
            let events = client.watch(
                CoreV1.ConfigMap.self, namespace: "default",
                options: WatchOptions(resourceVersion: start.resourceVersion, timeoutSeconds: 5))
            await #expect {
                for try await _ in events {}
            } throws: { error in
                (error as? KubeAPIError)?.isGone == true
            }
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func dynamicAccessToACustomResourceAndDiscovery(over transport: KubeSimClientTransport) async throws {
        try await withKubeSim(transport: transport) { _, client in
            let version = try await client.serverVersion()
            #expect(version.major == "1")
            let apps = try #require(try await client.serverResources(groupVersion: "apps/v1"))
            #expect(apps.resources.contains { $0.name == "statefulsets" && $0.namespaced })

            let widgets = ResourceDescriptor(
                group: "example.com", version: "v1", kind: "Widget", plural: "widgets", namespaced: true)
            #expect(try await client.serves(widgets) == false)

            let crd: JSONValue = [
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": ["name": "widgets.example.com"],
                "spec": [
                    "group": "example.com", "scope": "Namespaced",
                    "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
                    "versions": [
                        [
                            "name": "v1", "served": true, "storage": true,
                            "schema": [
                                "openAPIV3Schema": [
                                    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                ]
                            ],
                        ]
                    ],
                ],
            ]
            let typedCRD: ApiextensionsV1.CustomResourceDefinition = try crd.decode()
            _ = try await client.create(typedCRD)
            #expect(try await client.serves(widgets))

            let widget: JSONValue = [
                "apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": ["name": "w1", "namespace": "default"], "spec": ["size": 3],
            ]
            let created: JSONValue = try await client.create(widgets, widget, namespace: "default")
            #expect(created.value(at: ["spec", "size"]) == 3)
            let patched: JSONValue = try await client.patch(
                widgets, name: "w1", namespace: "default", patch: .merge(["spec": ["size": 5]]))
            #expect(patched.value(at: ["spec", "size"]) == 5)
            let listed = try await client.list(widgets, namespace: "default")
            #expect(listed.items.count == 1)
            try await client.delete(widgets, name: "w1", namespace: "default")
            #expect(try await client.list(widgets, namespace: "default").items.isEmpty)
        }
    }

    @Test(arguments: KubeSimClientTransport.allCases) func bearerTokensAreCheckedAndMetricsRecorded(over transport: KubeSimClientTransport) async throws {
        var configuration = KubeSimConfiguration()
        configuration.tokens = ["good-token": "alice"]
        let metrics = TestMetrics()
        try await withKubeSim(configuration: configuration, token: "good-token", metricsFactory: metrics, transport: transport) { sim, client in
            _ = try await client.list(CoreV1.ConfigMap.self, namespace: "default")
            #expect(metrics.counterTotal(label: "rest_client_requests_total", dimensions: [("verb", "GET"), ("code", "200")]) == 1)

            let stranger = try KubeClient(
                configuration: KubeClientConfiguration(server: sim.baseURL, credentials: .bearerToken("bad-token")))
            await #expect {
                try await stranger.list(CoreV1.ConfigMap.self, namespace: "default")
            } throws: { error in
                (error as? KubeAPIError)?.isUnauthorized == true
            }
            try await stranger.shutdown()
        }
    }

    @Test func kubeconfigWrittenByKubeSimWorks() async throws {
        try await withKubeSim { sim, _ in
            let directory = try TemporaryDirectory()
            let path = directory.path + "/kubeconfig"
            try sim.kubeconfigYAML(token: nil, namespace: "kube-system").write(toFile: path, atomically: true, encoding: .utf8)
            let client = try KubeClient(configuration: .load(kubeconfigPath: path, environment: [:]))
            let namespaces = try await client.list(CoreV1.Namespace.self)
            #expect(namespaces.items.contains { $0.metadata?.name == "kube-system" })
            #expect(client.defaultNamespace == "kube-system")
            try await client.shutdown()
        }
    }
}
