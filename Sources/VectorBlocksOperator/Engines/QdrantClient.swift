import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The parts of Qdrant's REST API (`../shared/reference/qdrant/openapi.json`) that the operator uses to run a
/// cluster: its consensus state, where collections' shards live, shard moves and peer removal.
struct QdrantClient: Sendable {
    let baseURL: String
    let apiKey: String?
    var timeout: TimeAmount = .seconds(5)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The consensus as this peer sees it; nil peers when distributed mode is off.
    struct ClusterStatus: Sendable {
        var enabled: Bool
        var peers: [UInt64: String]
        var consensus: String
    }

    func ready() async throws {
        try await call(.GET, "/readyz")
    }

    func clusterStatus() async throws -> ClusterStatus {
        let result = try await call(.GET, "/cluster", as: ClusterAnswer.self)
        guard result.status == "enabled" else { return ClusterStatus(enabled: false, peers: [:], consensus: "disabled") }
        var peers: [UInt64: String] = [:]
        for (id, info) in result.peers ?? [:] {
            if let id = UInt64(id) { peers[id] = info.uri }
        }
        return ClusterStatus(enabled: true, peers: peers, consensus: result.consensusThreadStatus?.consensusThreadStatus ?? "unknown")
    }

    func collectionNames() async throws -> [String] {
        try await call(.GET, "/collections", as: CollectionsAnswer.self).collections.map(\.name)
    }

    /// The collection's replication factor and its shards' replicas and transfers, from this peer's view: its local
    /// shards plus the remote ones are every replica.
    func layout(of collection: String) async throws -> QdrantLayout.Collection {
        let path = "/collections/\(Self.escaped(collection))"
        let info = try await call(.GET, path, as: CollectionAnswer.self)
        let cluster = try await call(.GET, "\(path)/cluster", as: CollectionClusterAnswer.self)
        var replicas: [Int: [UInt64: String]] = [:]
        for shard in cluster.localShards { replicas[shard.shardId, default: [:]][cluster.peerId] = shard.state }
        for shard in cluster.remoteShards { replicas[shard.shardId, default: [:]][shard.peerId] = shard.state }
        return QdrantLayout.Collection(
            name: collection, replicationFactor: info.config.params.replicationFactor ?? 1, replicas: replicas,
            transfers: cluster.shardTransfers.map { QdrantLayout.Transfer(shard: $0.shardId, from: $0.from, to: $0.to) })
    }

    func moveShard(_ move: QdrantScaleInPlan.Move) async throws {
        let body = MoveShardOperation(moveShard: .init(shardId: move.shard, fromPeerId: move.from, toPeerId: move.to))
        _ = try await call(.POST, "/collections/\(Self.escaped(move.collection))/cluster", body: try Self.encoder.encode(body))
    }

    func removePeer(_ peer: UInt64) async throws {
        _ = try await call(.DELETE, "/cluster/peer/\(peer)")
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// Peer ids are 64-bit unsigned numbers, beyond what a double holds exactly: answers are decoded into these.
    private struct ClusterAnswer: Decodable {
        struct Peer: Decodable { var uri: String }
        struct Consensus: Decodable { var consensusThreadStatus: String }
        var status: String
        var peers: [String: Peer]?
        var consensusThreadStatus: Consensus?
    }

    private struct CollectionsAnswer: Decodable {
        struct Name: Decodable { var name: String }
        var collections: [Name]
    }

    private struct CollectionAnswer: Decodable {
        struct Config: Decodable { var params: Params }
        struct Params: Decodable { var replicationFactor: Int? }
        var config: Config
    }

    private struct CollectionClusterAnswer: Decodable {
        struct Local: Decodable {
            var shardId: Int
            var state: String
        }
        struct Remote: Decodable {
            var shardId: Int
            var peerId: UInt64
            var state: String
        }
        struct Transfer: Decodable {
            var shardId: Int
            var from: UInt64
            var to: UInt64
        }
        var peerId: UInt64
        var localShards: [Local]
        var remoteShards: [Remote]
        var shardTransfers: [Transfer]
    }

    private struct MoveShardOperation: Encodable {
        struct Move: Encodable {
            var shardId: Int
            var fromPeerId: UInt64
            var toPeerId: UInt64
        }
        var moveShard: Move
    }

    struct Envelope<Result: Decodable>: Decodable {
        var result: Result
    }

    struct ErrorEnvelope: Decodable {
        struct Status: Decodable { var error: String }
        var status: Status
    }

    func call<Result: Decodable>(_ method: HTTPMethod, _ path: String, as type: Result.Type) async throws -> Result {
        let bytes = try await call(method, path)
        do {
            return try Self.decoder.decode(Envelope<Result>.self, from: bytes).result
        } catch {
            throw Failure(description: "\(method) \(path): unexpected answer: \(error)")
        }
    }

    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw Failure(description: "\(method) \(path): \(error)")
        }
        let data = Data(bytes.readableBytesView)
        guard response.status == .ok else {
            let message = (try? Self.decoder.decode(ErrorEnvelope.self, from: data))?.status.error ?? "HTTP \(response.status.code)"
            throw Failure(description: "\(method) \(path): \(message)")
        }
        return data
    }

    static func escaped(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
    }
}
