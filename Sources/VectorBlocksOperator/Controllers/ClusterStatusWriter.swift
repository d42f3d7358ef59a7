import KubeKit
import OperatorKit
import VectorBlocksAPI

/// Writes a Cluster's status through the status subresource, only when it differs from the stored one, and
/// remembers what it wrote until the cache shows it.
struct ClusterStatusWriter: Sendable {
    let client: KubeClient
    let writes: OwnStatusWrites<ClusterStatus>

    /// `cluster` as cached, its status the one the server holds (`OwnStatusWrites.known`).
    func publish(_ status: ClusterStatus, of cluster: Cluster) async throws {
        guard status != cluster.status, let name = cluster.metadata?.name else { return }
        var body = try JSONValue(encoding: status)
        // A merge patch leaves absent keys alone; what the new status no longer says must be cleared.
        body = body.withExplicitNulls(for: ["message", "clusterDefGeneration"])
        if case .object(var fields) = body {
            let previous = cluster.status?.components ?? [:]
            var components = fields["components"]?.objectValue ?? [:]
            for component in previous.keys where components[component] == nil { components[component] = .null }
            for (component, value) in components {
                guard case .object(var componentFields) = value else { continue }
                // The designated primary is written only by the failover's compare-and-swap (a PUT with the
                // resourceVersion): this merge patch, made from a possibly stale cache, must never move it back.
                componentFields["primary"] = nil
                var stripped = JSONValue.object(componentFields)
                if previous[component]?.message != nil, status.components?[component]?.message == nil {
                    stripped = stripped.withExplicitNulls(for: ["message"])
                }
                components[component] = stripped
            }
            if fields["components"] != nil || !previous.isEmpty { fields["components"] = .object(components) }
            body = .object(fields)
        }
        let written = try await client.patch(
            Cluster.descriptor, name: name, namespace: cluster.metadata?.namespace,
            patch: .merge(["status": body]), subresource: "status")
        writes.record(status, over: cluster, response: written)
    }
}
