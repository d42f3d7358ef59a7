/// The peers of a Qdrant cluster, each reached on its own address (never through the Service, which could send a
/// shard's snapshot request to a peer without that shard), with their URIs in the consensus.
public struct QdrantPeers: Sendable {
    let clients: [UInt64: QdrantClient]
    let uris: [UInt64: String]

    /// `addresses`: peer id → the peer's REST base URL (`http://10.0.0.7:6333`) and its consensus URI.
    public init(addresses: [UInt64: (restURL: String, uri: String)], apiKey: String?, timeout: Duration = .seconds(600)) {
        clients = addresses.mapValues {
            QdrantClient(baseURL: $0.restURL, apiKey: apiKey, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        }
        uris = addresses.mapValues(\.uri)
    }

    /// Any peer, for what every peer answers alike (the collections, their configs).
    var any: QdrantClient? { clients.min { $0.key < $1.key }?.value }

    func client(_ peer: UInt64) throws -> QdrantClient {
        guard let client = clients[peer] else { throw QdrantClient.Failure(description: "peer \(peer) has no address the operator can reach") }
        return client
    }

    /// Shard → peer → (state, points) of a collection, asked of every peer about its own replicas (keyed by the
    /// peer each client was given for, so a single-node Qdrant's one client is found again).
    func replicas(of collection: String) async throws -> [Int: [UInt64: QdrantClient.LocalReplica]] {
        var replicas: [Int: [UInt64: QdrantClient.LocalReplica]] = [:]
        for (peer, client) in clients.sorted(by: { $0.key < $1.key }) {
            for replica in try await client.localReplicas(of: collection).replicas { replicas[replica.shard, default: [:]][peer] = replica }
        }
        return replicas
    }
}
