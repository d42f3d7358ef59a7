import Foundation
import Logging
import ObjectStorage

/// Takes a Qdrant backup that is consistent across the cluster: for each collection, every shard is snapshotted on
/// a peer that holds an Active replica of it, on that peer's own address; each snapshot streams from the peer into
/// S3 as it is read, is deleted from the peer's disk, and the manifest is written last. Writes are not held while
/// it runs (the trade-off: shards are snapshotted one after another, so the backup is consistent per shard, not at
/// one instant across shards). A shard's point count, which a restore waits for, is read before and after its
/// snapshot; when writes changed it meanwhile the snapshot is taken again, and after `attempts` the backup fails
/// and says so rather than record a count the snapshot may not hold.
public struct QdrantBackup: Sendable {
    let peers: QdrantPeers
    let storage: S3Client
    /// The backup's key prefix, ending in `/`.
    let prefix: String
    let logger: Logger
    var attempts = 3

    public init(peers: QdrantPeers, storage: S3Client, prefix: String, logger: Logger) {
        self.peers = peers
        self.storage = storage
        self.prefix = prefix
        self.logger = logger
    }

    public struct Result: Sendable {
        public var manifest: QdrantBackupManifest
        /// Bytes written to the repository, the manifest included.
        public var totalSize: Int64
    }

    public func run(now: Date = Date()) async throws -> Result {
        guard let any = peers.any else { throw QdrantClient.Failure(description: "the cluster has no peer the operator can reach") }
        var collections: [QdrantBackupManifest.Collection] = []
        var totalSize: Int64 = 0
        for name in try await any.collectionNames().sorted() {
            let (collection, size) = try await backUp(collection: name, using: any)
            collections.append(collection)
            totalSize += size
        }
        let manifest = QdrantBackupManifest(created: now, collections: collections)
        let bytes = try manifest.encoded()
        try await storage.putObject(prefix + QdrantBackupManifest.objectName, bytes: bytes, contentType: "application/json")
        return Result(manifest: manifest, totalSize: totalSize + Int64(bytes.count))
    }

    private func backUp(collection name: String, using any: QdrantClient) async throws -> (QdrantBackupManifest.Collection, Int64) {
        let config = try await any.collectionConfig(name)
        let shardNumber = Int(config["params"]?["shard_number"]?.intValue ?? 1)
        let replicationFactor = Int(config["params"]?["replication_factor"]?.intValue ?? 1)
        let replicas = try await peers.replicas(of: name)
        let sources: [Int: UInt64]
        switch QdrantBackupPlan.sources(collection: name, shardNumber: shardNumber, replicas: replicas.mapValues { $0.mapValues(\.state) }) {
        case .refuse(let reason): throw QdrantClient.Failure(description: reason)
        case .snapshot(let chosen): sources = chosen
        }
        var shards: [QdrantBackupManifest.Shard] = []
        var size: Int64 = 0
        for shard in 0..<shardNumber {
            let peer = sources[shard]!
            let stored = try await snapshot(collection: name, shard: shard, on: peer, pointsBefore: replicas[shard]?[peer]?.points)
            shards.append(stored)
            size += stored.size
        }
        let collection = QdrantBackupManifest.Collection(
            name: name, config: config, shardNumber: shardNumber, replicationFactor: replicationFactor, shards: shards)
        return (collection, size)
    }

    /// One shard's snapshot with a point count that held while it was taken.
    private func snapshot(collection: String, shard: Int, on peer: UInt64, pointsBefore: Int64?) async throws -> QdrantBackupManifest.Shard {
        let client = try peers.client(peer)
        var before = pointsBefore
        for _ in 0..<attempts {
            let size = try await copySnapshot(collection: collection, shard: shard, client: client)
            let after = try await client.localReplicas(of: collection).replicas.first { $0.shard == shard }?.points
            if let after, after == before {
                return QdrantBackupManifest.Shard(
                    id: shard, peer: peer, peerURI: peers.uris[peer] ?? "", points: after, object: Self.object(collection, shard), size: size)
            }
            logger.info(
                "a shard's point count changed while it was snapshotted; taking it again", metadata: ["collection": "\(collection)", "shard": "\(shard)"])
            before = after
        }
        throw QdrantClient.Failure(
            description:
                "shard \(shard) of collection \"\(collection)\" changed during each of \(attempts) snapshots: back up when writes pause, or hold them meanwhile"
        )
    }

    static func object(_ collection: String, _ shard: Int) -> String {
        "\(collection)/shard-\(shard).snapshot"
    }

    /// Streams one snapshot from the peer into S3 and removes it from the peer's disk; returns its size.
    private func copySnapshot(collection: String, shard: Int, client: QdrantClient) async throws -> Int64 {
        let snapshotName = try await client.createShardSnapshot(collection, shard: shard)
        let uploaded: S3Client.UploadResult
        do {
            let download = try await client.openShardSnapshot(collection, shard: shard, name: snapshotName)
            uploaded = try await storage.upload(prefix + Self.object(collection, shard), from: download.body)
        } catch {
            try? await client.deleteShardSnapshot(collection, shard: shard, name: snapshotName)
            throw error
        }
        try await client.deleteShardSnapshot(collection, shard: shard, name: snapshotName)
        return uploaded.size
    }
}
