import Foundation
import Logging
import ObjectStorage

/// Restores a Qdrant backup into a cluster of any size: each collection is made from the manifest's config (its
/// shard count and replication factor; Qdrant places the replicas on the peers there are), every replica of every
/// shard recovers from the shard's snapshot streamed from S3 with the snapshot's data taking priority, and the
/// restore is done only when every replica is Active and holds the manifest's point count. Each step looks at what
/// is there first, so a restore that was interrupted continues where it stopped.
public struct QdrantRestore: Sendable {
    let peers: QdrantPeers
    let storage: S3Client
    /// The backup's key prefix, ending in `/`.
    let prefix: String
    let logger: Logger

    public init(peers: QdrantPeers, storage: S3Client, prefix: String, logger: Logger) {
        self.peers = peers
        self.storage = storage
        self.prefix = prefix
        self.logger = logger
    }

    public enum Progress: Sendable, Equatable {
        case done
        case waiting(String)
    }

    public func manifest() async throws -> QdrantBackupManifest {
        try QdrantBackupManifest.decode(try await storage.getObjectBytes(prefix + QdrantBackupManifest.objectName))
    }

    /// The manifest's collections that the cluster holds already.
    public func existingCollections(_ manifest: QdrantBackupManifest) async throws -> [String] {
        guard let any = peers.any else { throw QdrantClient.Failure(description: "no peer of the cluster is reachable") }
        var existing: [String] = []
        for collection in manifest.collections where try await any.collectionExists(collection.name) { existing.append(collection.name) }
        return existing
    }

    /// One pass: makes what is missing, starts the recoveries still needed, and says what it waits for.
    public func step(_ manifest: QdrantBackupManifest) async throws -> Progress {
        guard let any = peers.any else { return .waiting("no peer of the cluster is reachable") }
        var waiting: [String] = []
        for collection in manifest.collections {
            if !(try await any.collectionExists(collection.name)) {
                try await any.createCollection(collection.name, body: QdrantBackupManifest.createBody(from: collection.config))
                logger.info("collection created from the backup's manifest", metadata: ["collection": "\(collection.name)"])
            }
            waiting += try await recover(collection)
        }
        return waiting.isEmpty ? .done : .waiting(waiting.joined(separator: "; "))
    }

    /// Steps until done, looking again every `interval` (recoveries run in Qdrant's background).
    public func run(interval: Duration = .seconds(2), deadline: ContinuousClock.Instant = .now + .seconds(3600)) async throws {
        let manifest = try await manifest()
        while true {
            switch try await step(manifest) {
            case .done: return
            case .waiting(let reason):
                guard ContinuousClock.now < deadline else { throw QdrantClient.Failure(description: "the restore did not finish: \(reason)") }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Starts the recovery of each replica that does not yet hold the manifest's count and is not recovering, and
    /// names what is not yet Active with that count. A fresh collection's empty replica of an empty shard matches
    /// already, so an empty shard needs no snapshot.
    private func recover(_ collection: QdrantBackupManifest.Collection) async throws -> [String] {
        let replicas = try await peers.replicas(of: collection.name)
        var waiting: [String] = []
        for shard in collection.shards {
            let holders = replicas[shard.id] ?? [:]
            if holders.isEmpty { waiting.append("\(collection.name) shard \(shard.id): no replica placed yet") }
            for (peer, replica) in holders.sorted(by: { $0.key < $1.key }) {
                switch replica.state {
                case "Active" where replica.points == shard.points:
                    continue
                case "Active", "Dead":
                    try await upload(collection.name, shard: shard, to: peer)
                    waiting.append("\(collection.name) shard \(shard.id) on peer \(peer): recovery started")
                default:
                    waiting.append("\(collection.name) shard \(shard.id) on peer \(peer): \(replica.state), \(replica.points) of \(shard.points) points")
                }
            }
        }
        return waiting
    }

    private func upload(_ collection: String, shard: QdrantBackupManifest.Shard, to peer: UInt64) async throws {
        let object = try await storage.getObject(prefix + shard.object)
        try await peers.client(peer).recoverShard(collection, shard: shard.id, snapshot: object.body, length: object.contentLength ?? shard.size)
    }
}
