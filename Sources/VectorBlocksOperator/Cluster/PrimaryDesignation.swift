import VectorBlocksAPI

/// Which pod of a Replication component is to run read-write. The operator records it in the Cluster's status
/// (`status.components[c].primary`) and hands it to the pods as `VB_PRIMARY_POD` in the component's env ConfigMap,
/// which a container reads when it starts: a restarting pod learns from it whether to start read-write or as a
/// standby of the current primary, so no ordinal decides a role.
public enum PrimaryDesignation {
    public static let environmentKey = "VB_PRIMARY_POD"

    /// The recorded primary, or ordinal 0 for a component that has none recorded yet (a new Cluster: pod 0 founds it).
    public static func designated(_ cluster: Cluster, component: String, names: ClusterNames) -> String {
        cluster.status?.components?[component]?.primary ?? names.pod(component, ordinal: 0)
    }

    /// The recorded primary only; nil until the operator has recorded one.
    public static func recorded(_ cluster: Cluster, component: String) -> String? {
        cluster.status?.components?[component]?.primary
    }

    /// The Cluster with `pods` (component name → pod) recorded as the components' primaries.
    public static func recording(_ pods: [String: String], in cluster: Cluster) -> Cluster {
        var updated = cluster
        var status = updated.status ?? ClusterStatus()
        var components = status.components ?? [:]
        for (component, pod) in pods {
            var componentStatus = components[component] ?? ClusterComponentStatus()
            componentStatus.primary = pod
            components[component] = componentStatus
        }
        status.components = components
        updated.status = status
        return updated
    }
}
