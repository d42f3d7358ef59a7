import AsyncHTTPClient
import Foundation
import Logging
import TestSupport
import Testing
import VectorSync

@testable import VectorBlocksOperator

/// Qdrant backups against the Qdrant double (one server per peer, checked against the reference openapi.json) and
/// moto's S3: a backup consistent across the cluster, and its restore into a cluster of another size.
@Suite("Qdrant backup and restore against the double and moto")
struct QdrantBackupRestoreTests {
    static let logger = Logger(label: "vectorblocks.test.backup")
    static let collection = "docs"

    struct Setup {
        var source: [QdrantServer]
        var target: [QdrantServer]
        var storage: S3Client
    }

    func withClusters(sourcePeers: Int = 3, targetPeers: Int = 2, _ body: (Setup) async throws -> Void) async throws {
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let simulation = QdrantClusterSimulation(transferDuration: .milliseconds(100))
        let source = try await QdrantServer.startPeers(sourcePeers, apiKey: "backup-key", simulation: simulation)
        let target = try await QdrantServer.startPeers(targetPeers, apiKey: "backup-key", simulation: simulation)
        do {
            let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
            let storage = S3Client(
                bucket: "qdrant-backups", region: "eu-west-1", endpoint: moto.endpoint, credentials: credentials, http: http, logger: Self.logger)
            try await storage.createBucket()
            try await body(Setup(source: source, target: target, storage: storage))
        } catch {
            for server in source + target { try? await server.shutdown() }
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        for server in source + target { try await server.shutdown() }
        try await http.shutdown()
        moto.stop()
    }

    /// Each server's own address, as the operator reaches each pod.
    static func peers(_ servers: [QdrantServer]) async -> QdrantPeers {
        let uris = await servers[0].peers()
        var addresses: [UInt64: (restURL: String, uri: String)] = [:]
        for server in servers {
            guard let peer = server.peerID else { continue }
            addresses[peer] = (server.baseURL, uris[peer] ?? "")
        }
        return QdrantPeers(addresses: addresses, apiKey: "backup-key")
    }

    /// `docs`: 3 shards, replication factor 2, `count` points of 4 dimensions with a payload.
    static func fill(_ server: QdrantServer, count: Int) async throws {
        let created = try await server.send(
            .PUT, "/collections/\(collection)",
            json: #"{"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 3, "replication_factor": 2, "metadata": {"model": "hash"}}"#)
        #expect(created.status == 200, "\(created.body)")
        for start in stride(from: 0, to: count, by: 50) {
            let points = (start..<min(start + 50, count)).map { id in
                #"{"id": \#(id), "vector": [\#(Float(id) + 1), \#(Float(id % 7)), 0.5, \#(Float(id % 3))], "payload": {"title": "doc \#(id)"}}"#
            }
            let upserted = try await server.send(.PUT, "/collections/\(collection)/points?wait=true", json: #"{"points": [\#(points.joined(separator: ","))]}"#)
            #expect(upserted.status == 200, "\(upserted.body)")
        }
    }

    static func contents(_ server: QdrantServer) async -> [String: String] {
        (await server.points(in: collection) ?? [:]).mapValues { "\($0.vector) \($0.payloadJSON)" }
    }

    @Test func aThreePeerClusterRestoresIntoTwoPeersWithEveryPointAndEveryReplicaActive() async throws {
        try await withClusters { setup in
            try await Self.fill(setup.source[0], count: 300)
            // One replica of shard 0 falls behind: its snapshot would miss points, so the other one must be taken.
            let layout = try #require(await setup.source[0].activeReplicas(of: Self.collection))
            let behind = try #require(layout[0]?.min())
            await setup.source[0].setReplicaState("Partial", collection: Self.collection, shard: 0, peer: behind)

            let backup = QdrantBackup(peers: await Self.peers(setup.source), storage: setup.storage, prefix: "prod/ns/docs-db/b1/", logger: Self.logger)
            let result = try await backup.run()
            let manifest = result.manifest
            let stored = try #require(manifest.collections.first)
            #expect(manifest.collections.map(\.name) == [Self.collection])
            #expect(stored.shardNumber == 3 && stored.replicationFactor == 2 && stored.points == 300)
            #expect(stored.shards.map(\.id) == [0, 1, 2])
            #expect(stored.shards[0].peer != behind)
            for shard in stored.shards { #expect(layout[shard.id]?.contains(shard.peer) == true, "shard \(shard.id) came from a peer with its replica") }
            #expect(Set(stored.shards.map(\.peer)).count > 1, "the snapshots are spread over the peers")
            let objects = try await setup.storage.listObjects(prefix: "prod/ns/docs-db/b1/")
            #expect(Set(objects.map(\.key)) == Set((["manifest.json"] + stored.shards.map(\.object)).map { "prod/ns/docs-db/b1/" + $0 }))
            #expect(result.totalSize == objects.reduce(0) { $0 + $1.size })
            for server in setup.source {
                for shard in 0..<3 {
                    let listed = try await server.send(.GET, "/collections/\(Self.collection)/shards/\(shard)/snapshots")
                    #expect(listed.body.contains(#""result":[]"#), "no snapshot is left on peer \(server.peerID ?? 0): \(listed.body)")
                }
            }

            let restore = QdrantRestore(peers: await Self.peers(setup.target), storage: setup.storage, prefix: "prod/ns/docs-db/b1/", logger: Self.logger)
            #expect(try await restore.manifest() == manifest)
            try await restore.run(interval: .milliseconds(50), deadline: .now + .seconds(60))

            #expect(await Self.contents(setup.target[0]) == Self.contents(setup.source[0]))
            let restored = try #require(await setup.target[0].activeReplicas(of: Self.collection))
            let targetPeers = Set(setup.target.compactMap(\.peerID))
            #expect(restored == [0: targetPeers, 1: targetPeers, 2: targetPeers])
            #expect(await setup.target[0].metadata(of: Self.collection) == #"{"model":"hash"}"#)
            #expect(try await restore.step(manifest) == .done, "a restore run again finds nothing to do")
            #expect(setup.source[0].schemaViolations() == [])
            #expect(setup.target[0].schemaViolations() == [])
        }
    }

    @Test func aShardWithNoActiveReplicaFailsTheBackupAndSaysWhich() async throws {
        try await withClusters(targetPeers: 1) { setup in
            try await Self.fill(setup.source[0], count: 30)
            let layout = try #require(await setup.source[0].activeReplicas(of: Self.collection))
            for peer in layout[1] ?? [] { await setup.source[0].setReplicaState("Dead", collection: Self.collection, shard: 1, peer: peer) }
            let backup = QdrantBackup(peers: await Self.peers(setup.source), storage: setup.storage, prefix: "b2/", logger: Self.logger)
            let failure = await #expect(throws: QdrantClient.Failure.self) { try await backup.run() }
            #expect(failure?.description.contains("shard 1 of collection \"docs\" has no Active replica") == true, "\(String(describing: failure))")
            #expect(try await setup.storage.listObjects(prefix: "b2/manifest.json").isEmpty, "no manifest: the backup is not complete")
        }
    }

    @Test func theDoubleRefusesRequestsAndAnswersOutsideQdrantsAPI() async throws {
        let server = try #require(try await QdrantServer.startPeers(1).first)
        let unknownField = try await server.send(.PUT, "/collections/x", json: #"{"vectors": {"size": 4, "distance": "Cosine"}, "shards": 3}"#)
        #expect(unknownField.status == 422 && unknownField.body.contains("body.shards: not a field"), "\(unknownField.body)")
        let wrongType = try await server.send(.PUT, "/collections/x", json: #"{"vectors": {"size": "4", "distance": "Cosine"}}"#)
        #expect(wrongType.status == 422, "\(wrongType.body)")
        #expect(server.schemaViolations().count == 2)
        try await server.shutdown()
    }
}
