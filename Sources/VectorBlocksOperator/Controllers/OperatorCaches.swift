import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// The informers the controllers read: Clusters, OpsRequests, definitions and versions, and the objects the
/// operator makes, the latter scoped to the `managed-by=vectorblocks` label so the operator never caches every
/// Secret or Pod of the cluster.
public struct OperatorCaches: Sendable {
    public let clusters: NamespacedInformers<Cluster>
    public let opsRequests: NamespacedInformers<OpsRequest>
    public let definitions: Informer<ClusterDefinition>
    public let versions: Informer<ClusterVersion>
    public let statefulSets: NamespacedInformers<AppsV1.StatefulSet>
    public let deployments: NamespacedInformers<AppsV1.Deployment>
    public let services: NamespacedInformers<CoreV1.Service>
    public let configMaps: NamespacedInformers<CoreV1.ConfigMap>
    public let secrets: NamespacedInformers<CoreV1.Secret>
    public let podDisruptionBudgets: NamespacedInformers<PolicyV1.PodDisruptionBudget>
    public let pods: NamespacedInformers<CoreV1.Pod>
    public let volumeClaims: NamespacedInformers<CoreV1.PersistentVolumeClaim>
    public let templates: TemplateConfigMaps
    public let pipelines: NamespacedInformers<VectorPipeline>
    public let serviceAccounts: NamespacedInformers<CoreV1.ServiceAccount>
    public let autoscalers: NamespacedInformers<AutoscalingV2.HorizontalPodAutoscaler>
    public let backups: NamespacedInformers<Backup>

    public static let ownedSelector = "\(ClusterNames.managedByLabel)=\(ClusterNames.managedBy)"

    public init(client: KubeClient, namespaces: [String], timing: InformerTiming = .init(), logger: Logger) {
        func owned<Object: KubernetesObject>(
            _: Object.Type, transform: @escaping Informer<Object>.Transform = { _ in }
        ) -> NamespacedInformers<Object> {
            NamespacedInformers(
                client: client, namespaces: namespaces, labelSelector: Self.ownedSelector, timing: timing,
                transform: transform, logger: logger)
        }
        clusters = NamespacedInformers(client: client, namespaces: namespaces, timing: timing, logger: logger)
        opsRequests = NamespacedInformers(client: client, namespaces: namespaces, timing: timing, logger: logger)
        definitions = Informer(client: client, timing: timing, logger: logger)
        versions = Informer(client: client, timing: timing, logger: logger)
        statefulSets = owned(AppsV1.StatefulSet.self)
        deployments = owned(AppsV1.Deployment.self)
        services = owned(CoreV1.Service.self)
        configMaps = owned(CoreV1.ConfigMap.self)
        secrets = owned(CoreV1.Secret.self)
        podDisruptionBudgets = owned(PolicyV1.PodDisruptionBudget.self)
        pods = owned(CoreV1.Pod.self, transform: Self.trimPod)
        volumeClaims = owned(CoreV1.PersistentVolumeClaim.self)
        templates = TemplateConfigMaps(client: client, timing: timing, logger: logger)
        pipelines = NamespacedInformers(client: client, namespaces: namespaces, timing: timing, logger: logger)
        serviceAccounts = owned(CoreV1.ServiceAccount.self)
        autoscalers = owned(AutoscalingV2.HorizontalPodAutoscaler.self)
        backups = NamespacedInformers(client: client, namespaces: namespaces, timing: timing, logger: logger)
    }

    /// Pods are cached with their spec cut to `nodeName`: the controllers read a pod's labels, status and node, while
    /// its spec, a copy of its StatefulSet's template, was the largest part of the cache (`heaptrack`: a third of the
    /// cached bytes at 300 Clusters). Read a pod from the API server for anything else in its spec.
    static func trimPod(_ pod: inout JSONValue) {
        var spec: JSONValue = ["containers": []]
        if let node = pod["spec"]?["nodeName"] { spec["nodeName"] = node }
        pod["spec"] = spec
    }

    public func hasSynced() async -> Bool {
        let checks: [@Sendable () async -> Bool] = [
            clusters.hasSynced, opsRequests.hasSynced, definitions.hasSynced, versions.hasSynced, statefulSets.hasSynced,
            deployments.hasSynced, services.hasSynced, configMaps.hasSynced, secrets.hasSynced,
            podDisruptionBudgets.hasSynced, pods.hasSynced, volumeClaims.hasSynced, pipelines.hasSynced,
            serviceAccounts.hasSynced, autoscalers.hasSynced, backups.hasSynced,
        ]
        for check in checks where !(await check()) { return false }
        return true
    }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await clusters.run() }
            group.addTask { await opsRequests.run() }
            group.addTask { await definitions.run() }
            group.addTask { await versions.run() }
            group.addTask { await statefulSets.run() }
            group.addTask { await deployments.run() }
            group.addTask { await services.run() }
            group.addTask { await configMaps.run() }
            group.addTask { await secrets.run() }
            group.addTask { await podDisruptionBudgets.run() }
            group.addTask { await pods.run() }
            group.addTask { await volumeClaims.run() }
            group.addTask { await templates.run() }
            group.addTask { await pipelines.run() }
            group.addTask { await serviceAccounts.run() }
            group.addTask { await autoscalers.run() }
            group.addTask { await backups.run() }
        }
    }

    /// The operator's objects of one kind that belong to a cluster, as JSON, for drift checks and pruning.
    func owned(_ resource: ResourceDescriptor, names: ClusterNames) async throws -> [JSONValue] {
        let selector = LabelSelector(matching: names.clusterSelector)
        func encode<Object: KubernetesObject>(_ informers: NamespacedInformers<Object>) async throws -> [JSONValue] {
            try await informers.list(namespace: names.namespace, selector: selector).map { try JSONValue(encoding: $0) }
        }
        switch resource {
        case AppsV1.StatefulSet.descriptor: return try await encode(statefulSets)
        case AppsV1.Deployment.descriptor: return try await encode(deployments)
        case CoreV1.Service.descriptor: return try await encode(services)
        case CoreV1.ConfigMap.descriptor: return try await encode(configMaps)
        case CoreV1.Secret.descriptor: return try await encode(secrets)
        case PolicyV1.PodDisruptionBudget.descriptor: return try await encode(podDisruptionBudgets)
        case CoreV1.PersistentVolumeClaim.descriptor: return try await encode(volumeClaims)
        case CoreV1.ServiceAccount.descriptor: return try await encode(serviceAccounts)
        default: return []
        }
    }

    /// The values of a Cluster's conn-credential Secret, decoded; empty before it exists.
    func credential(of names: ClusterNames) async -> [String: String] {
        guard let secret = await secrets.get(name: names.credentialSecret, namespace: names.namespace) else { return [:] }
        return (secret.data ?? [:]).compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The kinds the Cluster controller makes and prunes, in the order it applies them.
    static let ownedKinds: [ResourceDescriptor] = [
        CoreV1.Secret.descriptor, CoreV1.ServiceAccount.descriptor, CoreV1.ConfigMap.descriptor, CoreV1.Service.descriptor,
        AppsV1.StatefulSet.descriptor, AppsV1.Deployment.descriptor, PolicyV1.PodDisruptionBudget.descriptor,
    ]
}
