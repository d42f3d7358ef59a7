import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// The template ConfigMaps that definitions name, each followed by a watch of its own (a field selector on its name),
/// so a reconcile reads them from memory and a template that appears or changes wakes the Clusters made from it at
/// once. Users and addons make templates, without the operator's label, so the owned-object informers never see
/// them; and a definition can name any namespace, so no namespace-wide informer would do.
public actor TemplateConfigMaps {
    public struct Key: Hashable, Sendable {
        public var namespace: String
        public var name: String

        /// Where a template spec points; KubeBlocks' default namespace is `default`.
        init(_ spec: ComponentTemplateSpec) {
            namespace = spec.namespace ?? "default"
            name = spec.templateRef
        }
    }

    private let client: KubeClient
    private let timing: InformerTiming
    private let logger: Logger
    private var informers: [Key: Informer<CoreV1.ConfigMap>] = [:]
    private var handlers: [@Sendable (Key) async -> Void] = []
    private let started: AsyncStream<Informer<CoreV1.ConfigMap>>
    private let start: AsyncStream<Informer<CoreV1.ConfigMap>>.Continuation

    init(client: KubeClient, timing: InformerTiming, logger: Logger) {
        self.client = client
        self.timing = timing
        self.logger = logger
        (started, start) = AsyncStream.makeStream()
    }

    /// Runs each template's watch from the moment it is first asked for, until the task is cancelled.
    nonisolated func run() async {
        await withDiscardingTaskGroup { group in
            for await informer in started {
                group.addTask { await informer.run() }
            }
        }
    }

    /// `handler` is called with a template's key whenever it is made, changed or deleted.
    func onChange(_ handler: @escaping @Sendable (Key) async -> Void) {
        handlers.append(handler)
    }

    /// The template from its watch once that has synced; until then (its first reconcile), from the server.
    func get(_ spec: ComponentTemplateSpec) async throws -> CoreV1.ConfigMap? {
        let key = Key(spec)
        let informer: Informer<CoreV1.ConfigMap>
        if let existing = informers[key] { informer = existing } else { informer = await watch(key) }
        if await informer.hasSynced() {
            return await informer.cache.get(name: key.name, namespace: key.namespace)
        }
        do {
            return try await client.get(CoreV1.ConfigMap.self, name: key.name, namespace: key.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    private func watch(_ key: Key) async -> Informer<CoreV1.ConfigMap> {
        let informer = Informer<CoreV1.ConfigMap>(
            client: client, namespace: key.namespace, fieldSelector: "metadata.name=\(key.name)", timing: timing,
            logger: logger)
        informers[key] = informer
        await informer.addHandler { [weak self] _ in await self?.changed(key) }
        start.yield(informer)
        return informer
    }

    private func changed(_ key: Key) async {
        for handler in handlers { await handler(key) }
    }
}

extension ClusterDefinition {
    /// Whether a component of this definition renders `template`.
    func names(_ template: TemplateConfigMaps.Key) -> Bool {
        spec.componentDefs.contains { component in
            ((component.configSpecs ?? []) + (component.scriptSpecs ?? [])).contains { TemplateConfigMaps.Key($0) == template }
        }
    }
}
