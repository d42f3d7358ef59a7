import Foundation
import JSONValues

/// What a Qdrant backup holds, written last as `manifest.json` beside the shard snapshots: a backup without one
/// is incomplete and is not restored.
public struct QdrantBackupManifest: Codable, Sendable, Equatable {
    public static let objectName = "manifest.json"

    public var format = 1
    public var created: Date
    public var collections: [Collection]

    public struct Collection: Codable, Sendable, Equatable {
        public var name: String
        /// The collection's `config` as Qdrant answered it (params, HNSW, optimizers, WAL, quantization, metadata).
        public var config: JSONValue
        public var shardNumber: Int
        public var replicationFactor: Int
        public var shards: [Shard]

        public var points: Int64 {
            shards.reduce(0) { $0 + $1.points }
        }
    }

    public struct Shard: Codable, Sendable, Equatable {
        public var id: Int
        /// The peer whose Active replica was snapshotted, and its URI in the consensus.
        public var peer: UInt64
        public var peerURI: String
        /// The replica's points when the snapshot was taken (the same before and after it).
        public var points: Int64
        /// The snapshot's key under the backup's prefix.
        public var object: String
        public var size: Int64
    }

    public init(created: Date, collections: [Collection]) {
        // Whole seconds, as the manifest's ISO 8601 dates keep them: a manifest read back equals the one written.
        self.created = Date(timeIntervalSince1970: created.timeIntervalSince1970.rounded(.down))
        self.collections = collections
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public func encoded() throws -> [UInt8] {
        Array(try Self.encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> QdrantBackupManifest {
        try decoder.decode(QdrantBackupManifest.self, from: Data(bytes))
    }

    /// The collection as Qdrant's CreateCollection takes it: the params and configs of `config` under the names
    /// creation uses (`optimizer_config` is `optimizers_config` there); nulls and answer-only fields left out.
    static func createBody(from config: JSONValue) -> JSONValue {
        var body: [String: JSONValue] = [:]
        for name in ["vectors", "shard_number", "sharding_method", "replication_factor", "write_consistency_factor", "on_disk_payload", "sparse_vectors"] {
            if let value = config["params"]?[name], value != .null { body[name] = value }
        }
        let sections = [
            ("hnsw_config", "hnsw_config"), ("optimizer_config", "optimizers_config"), ("wal_config", "wal_config"),
            ("quantization_config", "quantization_config"), ("metadata", "metadata"),
        ]
        for (answered, created) in sections {
            if let value = config[answered], value != .null { body[created] = value }
        }
        return .object(body)
    }
}
