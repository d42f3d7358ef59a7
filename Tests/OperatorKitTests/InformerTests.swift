import KubeKit
import KubeSim
import TestSupport
import Testing

@testable import OperatorKit

/// Records what handlers receive, for assertions.
private actor EventLog {
    var entries: [String] = []
    func append(_ entry: String) { entries.append(entry) }

    /// Waits, boundedly, until `predicate` holds for the entries.
    func wait(until predicate: @Sendable ([String]) -> Bool) async -> [String] {
        for _ in 0..<200 where !predicate(entries) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return entries
    }
}

private func describe(_ event: InformerEvent<CoreV1.ConfigMap>) -> String {
    switch event {
    case .added(let object): "added \(object.metadata?.name ?? "")"
    case .updated(_, let new): "updated \(new.metadata?.name ?? "") \(new.data?["v"] ?? "")"
    case .deleted(let object): "deleted \(object.metadata?.name ?? "")"
    }
}

/// ConfigMaps read through a stricter model: `data.v` must be a number, so a test can store objects this model
/// cannot decode, as a newer API server's objects can be for older models.
private struct NumberedConfigMap: KubernetesObject {
    static let descriptor = CoreV1.ConfigMap.descriptor
    var metadata: MetaV1.ObjectMeta?
    var number: Int

    enum CodingKeys: String, CodingKey { case metadata, data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(MetaV1.ObjectMeta.self, forKey: .metadata)
        let data = try container.decode([String: String].self, forKey: .data)
        guard let number = data["v"].flatMap(Int.init) else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: container, debugDescription: "data.v is not a number")
        }
        self.number = number
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(metadata, forKey: .metadata)
        try container.encode(["v": String(number)], forKey: .data)
    }
}

@Suite("Informer")
struct InformerTests {
    @Test func anObjectThatDoesNotDecodeIsSkippedAndTheRestIsServed() async throws {
        try await withKubeSim { _, client in
            _ = try await client.create(configMap("good", v: "1"))
            _ = try await client.create(configMap("bad", v: "one"))
            let informer = Informer<NumberedConfigMap>(client: client, namespace: "default")
            let task = Task { await informer.run() }
            defer { task.cancel() }
            await informer.waitForSync()
            #expect(await informer.cache.keys.map(\.name) == ["good"])

            // A change that makes a cached object unreadable takes it out of the cache, as a deletion would.
            _ = try await client.update(
                configMap("good", v: "two").withResourceVersion(of: try await client.get(CoreV1.ConfigMap.self, name: "good", namespace: "default")))
            _ = try await client.create(configMap("later", v: "3"))
            for _ in 0..<200 where await informer.cache.keys.map(\.name) != ["later"] {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await informer.cache.keys.map(\.name) == ["later"])
            #expect(await informer.cache.get(name: "later", namespace: "default")?.number == 3)
        }
    }

    func configMap(
        _ name: String, namespace: String = "default", labels: [String: String]? = nil, v: String = "1"
    )
        -> CoreV1.ConfigMap
    {
        CoreV1.ConfigMap(data: ["v": v], metadata: MetaV1.ObjectMeta(labels: labels, name: name, namespace: namespace))
    }

    @Test func listsThenWatchesAndKeepsTheCacheCurrent() async throws {
        try await withKubeSim { server, client in
            _ = try await client.create(configMap("before", labels: ["app": "db"]))
            let informer = Informer<CoreV1.ConfigMap>(
                client: client, namespace: "default", timing: .init(watchTimeout: 1...2, pageSize: 2))
            let log = EventLog()
            await informer.addHandler { event in await log.append(describe(event)) }
            let run = Task { await informer.run() }
            defer { run.cancel() }
            await informer.waitForSync()
            #expect(await informer.cache.get(name: "before", namespace: "default") != nil)

            _ = try await client.create(configMap("during", labels: ["app": "db"]))
            _ = try await client.patch(CoreV1.ConfigMap.self, name: "during", patch: .merge(["data": ["v": "2"]]))
            try await client.delete(CoreV1.ConfigMap.self, name: "before")
            let entries = await log.wait { $0.contains("deleted before") }
            #expect(entries == ["added before", "added during", "updated during 2", "deleted before"])
            #expect(await informer.cache.keys == [ObjectKey(namespace: "default", name: "during")])

            // Watches end every second or two here; changes after a reconnect are still seen.
            let watches = { await server.requestCounts()[RequestKey(verb: "watch", resource: "configmaps")] ?? 0 }
            let watchesBefore = await watches()
            _ = try await eventually("the informer to watch again") { await watches() > watchesBefore ? true : nil }
            _ = try await client.create(configMap("after-reconnect"))
            let later = await log.wait { $0.contains("added after-reconnect") }
            #expect(later.last == "added after-reconnect")
        }
    }

    @Test func theCacheKeepsObjectsWithoutTheirManagedFields() async throws {
        try await withKubeSim { _, client in
            _ = try await client.create(configMap("listed"))
            let informer = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            let run = Task { await informer.run() }
            defer { run.cancel() }
            await informer.waitForSync()
            _ = try await client.create(configMap("watched"))
            for _ in 0..<200 where await informer.cache.get(name: "watched", namespace: "default") == nil {
                try await Task.sleep(for: .milliseconds(20))
            }
            for name in ["listed", "watched"] {
                #expect(try await client.get(CoreV1.ConfigMap.self, name: name, namespace: "default").metadata?.managedFields?.isEmpty == false)
                let cached = try #require(await informer.cache.get(name: name, namespace: "default"))
                #expect(cached.metadata?.managedFields == nil)
                #expect(cached.data == ["v": "1"] && cached.metadata?.resourceVersion != nil)
            }
        }
    }

    @Test func aTransformCutsWhatTheCacheKeepsFromListsAndWatches() async throws {
        try await withKubeSim { _, client in
            _ = try await client.create(configMap("listed", v: "1"))
            let informer = Informer<CoreV1.ConfigMap>(
                client: client, namespace: "default", transform: { $0["data"] = ["kept": "only this"] })
            let log = EventLog()
            await informer.addHandler { event in await log.append(describe(event)) }
            let run = Task { await informer.run() }
            defer { run.cancel() }
            await informer.waitForSync()
            _ = try await client.create(configMap("watched", v: "2"))
            _ = await log.wait { $0.contains("added watched") }
            for name in ["listed", "watched"] {
                let cached = try #require(await informer.cache.get(name: name, namespace: "default"))
                #expect(cached.data == ["kept": "only this"] && cached.metadata?.managedFields == nil)
            }
            #expect(try await client.get(CoreV1.ConfigMap.self, name: "watched", namespace: "default").data == ["v": "2"])
        }
    }

    @Test func cacheIndexesByOwnerAndLabel() async throws {
        try await withKubeSim { _, client in
            let owner = try await client.create(configMap("owner"))
            let ownerUID = try #require(owner.metadata?.uid)
            var owned = configMap("owned", labels: ["tier": "db", "app": "orders"])
            owned.metadata?.ownerReferences = [
                .init(apiVersion: "v1", controller: true, kind: "ConfigMap", name: "owner", uid: ownerUID)
            ]
            _ = try await client.create(owned)
            _ = try await client.create(configMap("other", labels: ["tier": "cache", "app": "orders"]))

            let informer = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            let run = Task { await informer.run() }
            defer { run.cancel() }
            await informer.waitForSync()
            #expect(await informer.cache.owned(by: ownerUID).compactMap(\.metadata?.name) == ["owned"])
            let databases = await informer.cache.list(namespace: "default", selector: try LabelSelector(parsing: "tier=db"))
            #expect(databases.compactMap(\.metadata?.name) == ["owned"])
            let orders = await informer.cache.list(selector: try LabelSelector(parsing: "app=orders,tier!=db"))
            #expect(orders.compactMap(\.metadata?.name) == ["other"])
            #expect(await informer.cache.count(namespace: "default") { $0.metadata?.labels?["app"] == "orders" } == 2)
            #expect(await informer.cache.count { $0.metadata?.labels?["tier"] == "db" } == 1)
            #expect(await informer.cache.count(namespace: "elsewhere") { _ in true } == 0)
        }
    }

    @Test func scopedInformersCacheOnlyTheirNamespaceAndLabels() async throws {
        try await withKubeSim { _, client in
            _ = try await client.create(CoreV1.Namespace(metadata: .init(name: "team-a")))
            _ = try await client.create(configMap("mine", namespace: "team-a", labels: ["app.kubernetes.io/managed-by": "vectorblocks"]))
            _ = try await client.create(configMap("not-managed", namespace: "team-a"))
            _ = try await client.create(configMap("elsewhere", namespace: "default", labels: ["app.kubernetes.io/managed-by": "vectorblocks"]))

            let informer = Informer<CoreV1.ConfigMap>(
                client: client, namespace: "team-a", labelSelector: "app.kubernetes.io/managed-by=vectorblocks")
            let run = Task { await informer.run() }
            defer { run.cancel() }
            await informer.waitForSync()
            #expect(await informer.cache.keys == [ObjectKey(namespace: "team-a", name: "mine")])
        }
    }
}

extension CoreV1.ConfigMap {
    func withResourceVersion(of stored: CoreV1.ConfigMap) -> CoreV1.ConfigMap {
        var copy = self
        copy.metadata?.resourceVersion = stored.metadata?.resourceVersion
        return copy
    }
}
