import KubeKit
import Logging

/// One kind's informers over the namespaces an operator watches: one informer for all namespaces, or one per
/// namespace (so the operator can run with Roles in those namespaces only), read as one cache.
public struct NamespacedInformers<Object: KubernetesObject>: Sendable {
    public let informers: [Informer<Object>]

    /// `namespaces` empty means every namespace.
    public init(
        client: KubeClient, namespaces: [String], labelSelector: String? = nil, timing: Informer<Object>.Timing = .init(),
        transform: @escaping Informer<Object>.Transform = { _ in }, logger: Logger
    ) {
        let scopes: [String?] = namespaces.isEmpty ? [nil] : namespaces
        informers = scopes.map {
            Informer(
                client: client, namespace: $0, labelSelector: labelSelector, timing: timing, transform: transform, logger: logger)
        }
    }

    public func get(name: String, namespace: String) async -> Object? {
        for informer in informers where informer.namespace == nil || informer.namespace == namespace {
            if let object = await informer.cache.get(name: name, namespace: namespace) { return object }
        }
        return nil
    }

    public func get(_ key: ObjectKey) async -> Object? {
        guard let namespace = key.namespace else { return nil }
        return await get(name: key.name, namespace: namespace)
    }

    public func list(namespace: String, selector: LabelSelector = .everything) async -> [Object] {
        var objects: [Object] = []
        for informer in informers where informer.namespace == nil || informer.namespace == namespace {
            objects += await informer.cache.list(namespace: namespace, selector: selector)
        }
        return objects
    }

    /// How many cached objects in a namespace satisfy `predicate`, without copying them out of the caches.
    public func count(namespace: String, where predicate: @Sendable (Object) -> Bool) async -> Int {
        var count = 0
        for informer in informers where informer.namespace == nil || informer.namespace == namespace {
            count += await informer.cache.count(namespace: namespace, where: predicate)
        }
        return count
    }

    public func hasSynced() async -> Bool {
        for informer in informers where !(await informer.hasSynced()) { return false }
        return true
    }

    /// Runs every informer until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for informer in informers { group.addTask { await informer.run() } }
        }
    }
}

extension Controller {
    public func `for`<Object: KubernetesObject>(_ informers: NamespacedInformers<Object>, filter: EventFilter<Object> = .all) async {
        for informer in informers.informers { await self.for(informer, filter: filter) }
    }

    public func owns<Object: KubernetesObject, Owner: KubernetesObject>(
        _ informers: NamespacedInformers<Object>, ownedBy owner: Owner.Type, filter: EventFilter<Object> = .all
    ) async {
        for informer in informers.informers { await owns(informer, ownedBy: owner, filter: filter) }
    }

    public func watches<Object: KubernetesObject>(
        _ informers: NamespacedInformers<Object>, filter: EventFilter<Object> = .all,
        map: @escaping @Sendable (InformerEvent<Object>) async -> [ObjectKey]
    ) async {
        for informer in informers.informers { await watches(informer, filter: filter, map: map) }
    }
}
