import Foundation
import KubeKit
import VectorBlocksAPI

extension Session {
    /// `kbctl cluster connect`: how to reach the cluster, from its conn-credential Secret.
    public func connection(
        to name: String, host: String? = nil, port: String? = nil, database: String = "postgres", clientArguments: [String] = []
    ) async throws -> ClusterConnection {
        _ = try printer(.clusterConnect)
        let cluster = try await getCluster(name)
        let secretName = "\(name)-conn-credential"
        let secret: CoreV1.Secret
        do {
            secret = try await client.get(CoreV1.Secret.self, name: secretName, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            throw CLIError(
                "Secret \(namespace)/\(secretName) does not exist yet: the operator makes it when it reconciles the Cluster; see kbctl cluster describe \(name)"
            )
        } catch {
            throw CLIError.from(error, resource: CoreV1.Secret.descriptor)
        }
        var credential = (secret.data ?? [:]).compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
        credential.merge(secret.stringData ?? [:]) { _, plain in plain }
        let source = ClusterConnection.Source(
            cluster: name, namespace: namespace, engine: cluster.spec.clusterDefinitionRef, secretName: secretName, credential: credential)
        return try ClusterConnection.plan(source, host: host, port: port, database: database, clientArguments: clientArguments)
    }
}
