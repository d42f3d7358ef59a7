import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import VectorBlocksAPI
import VectorSync

/// How the operator reaches a sink's store to drop its data: a pgvector database or a Qdrant endpoint, with the
/// credential Emu uses (the Cluster's `<name>-conn-credential`, or the endpoint's Secret), read fresh. No credential
/// appears in a message.
enum SinkAddress: Sendable {
    case pgvector(PostgresEndpoint)
    case qdrant(url: String, apiKey: String?)

    enum Resolution: Sendable {
        case found(SinkAddress)
        /// The sink's Cluster no longer exists: no data of it is left for the pipeline to drop.
        case gone(String)
        /// A Secret or key is missing: the drop waits for it.
        case missing(String)
    }

    static func resolve(_ target: SinkTarget, namespace: String, client: KubeClient, source: PipelineSource) async throws -> Resolution {
        if let reference = target.clusterRef {
            let clusterNamespace = reference.namespace ?? namespace
            do {
                _ = try await client.get(Cluster.self, name: reference.name, namespace: clusterNamespace)
            } catch let error as KubeAPIError where error.isNotFound {
                return .gone("its Cluster \"\(reference.name)\" no longer exists: nothing is left to drop")
            }
            let credential = ClusterNames(cluster: reference.name, namespace: clusterNamespace).credentialSecret
            var values: [String: String] = [:]
            let keys = target.kind == .pgvector ? ["username", "password", "host", "port"] : ["endpoint", "apiKey"]
            for key in keys {
                switch try await source.secretValue(
                    SecretKeyRef(name: credential, key: key), namespace: clusterNamespace, field: "the removed sink's Cluster credential")
                {
                case .success(let value): values[key] = value
                case .failure(let missing): return .missing(missing.message)
                }
            }
            switch target.kind {
            case .pgvector:
                guard let port = Int(values["port"] ?? "") else { return .missing("Secret \"\(credential)\": port is not a number") }
                return .found(
                    .pgvector(
                        PostgresEndpoint(
                            host: values["host"] ?? "", port: port, username: values["username"] ?? "", password: values["password"],
                            database: PipelineSinkWiring.pgvectorDatabase)))
            case .qdrant:
                return .found(.qdrant(url: values["endpoint"] ?? "", apiKey: values["apiKey"]))
            }
        }
        guard let endpoint = target.endpoint else { return .missing("the removed sink names neither a Cluster nor an endpoint") }
        var secret: String?
        if let reference = endpoint.credentialsSecretRef {
            switch try await source.secretValue(reference, namespace: namespace, field: "the removed sink's endpoint.credentialsSecretRef") {
            case .success(let value): secret = value
            case .failure(let missing): return .missing(missing.message)
            }
        }
        switch target.kind {
        case .pgvector:
            do {
                return .found(.pgvector(try PostgresEndpoint(url: secret ?? endpoint.url, field: "the removed sink's endpoint")))
            } catch {
                return .missing("\(error)")
            }
        case .qdrant:
            return .found(.qdrant(url: endpoint.url, apiKey: secret))
        }
    }

    func drop(_ collection: String, ifMadeBy maker: String, logger: Logger) async throws -> SinkDataDrop.Outcome {
        switch self {
        case .pgvector(var endpoint):
            endpoint.connectTimeout = PipelineSource.connectTimeout
            endpoint.statementTimeout = PipelineSource.statementTimeout
            return try await endpoint.withConnection(logger: logger) { connection in
                try await SinkDataDrop.dropPgvectorTable(collection, ifMadeBy: maker, connection: connection, logger: logger)
            }
        case .qdrant(let url, let apiKey):
            return try await SinkDataDrop.dropQdrantCollection(collection, ifMadeBy: maker, url: url, apiKey: apiKey, http: .shared, logger: logger)
        }
    }
}
