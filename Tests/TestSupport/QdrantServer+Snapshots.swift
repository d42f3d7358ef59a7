import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A replica recovering from an uploaded shard snapshot: Qdrant's `Recovery` state, Active once it finishes.
struct ShardRecovery: Sendable, Hashable {
    var shard: Int
    var peer: UInt64
    var finishes: ContinuousClock.Instant
}

/// One shard snapshot a peer keeps on its disk until it is deleted. Its bytes are the double's own format (JSON
/// of the shard's points), as opaque to clients as Qdrant's tar archives.
struct ShardSnapshot: Sendable {
    var collection: String
    var shard: Int
    var peer: UInt64
    var bytes: [UInt8]
    var created: Date
}

extension QdrantServer {
    /// Starts `count` servers over one distributed deployment, each answering as its own peer, peer `i` with the
    /// Raft URI `peerURI(i)` (as the addon's pod of ordinal `i` joins); the first is the consensus's first peer.
    public static func startPeers(
        _ count: Int, apiKey: String? = nil, simulation: QdrantClusterSimulation = .init(),
        peerURI: (Int) -> String = { "http://qdrant-\($0).qdrant-headless:6335" }
    ) async throws -> [QdrantServer] {
        let state = QdrantState(cluster: simulation)
        let violations = QdrantSchemaViolations()
        var servers: [QdrantServer] = []
        for index in 0..<count {
            let peer = await state.join(uri: peerURI(index))
            servers.append(try await start(apiKey: apiKey, state: state, peer: peer, violations: violations))
        }
        return servers
    }

    /// Marks a replica's state, as a peer that falls behind leaves it (`Partial`, `Dead`): its snapshots are then
    /// of what it held, which is nothing in this double.
    public func setReplicaState(_ replicaState: String, collection: String, shard: Int, peer: UInt64) async {
        await state.setReplicaState(replicaState, collection: collection, shard: shard, peer: peer)
    }

    static func snapshotRoutes(_ router: Router<BasicRequestContext>, state: QdrantState, peer: UInt64?) {
        router.post("/collections/:collection/shards/:shard/snapshots") { _, context in
            let (name, shard) = try shardParameters(context)
            return await state.createSnapshot(name, shard: shard, on: peer)
        }
        router.get("/collections/:collection/shards/:shard/snapshots") { _, context in
            let (name, shard) = try shardParameters(context)
            return await state.listSnapshots(name, shard: shard, on: peer)
        }
        router.get("/collections/:collection/shards/:shard/snapshots/:snapshot") { _, context in
            let (name, shard) = try shardParameters(context)
            let snapshot = try context.parameters.require("snapshot")
            guard let bytes = await state.snapshotBytes(name, shard: shard, snapshot: snapshot, on: peer) else {
                return error(.notFound, "Not found: Snapshot \(snapshot) not found")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.delete("/collections/:collection/shards/:shard/snapshots/:snapshot") { _, context in
            let (name, shard) = try shardParameters(context)
            let snapshot = try context.parameters.require("snapshot")
            return await state.deleteSnapshot(name, shard: shard, snapshot: snapshot, on: peer)
        }
        router.post("/collections/:collection/shards/:shard/snapshots/upload") { request, context in
            let (name, shard) = try shardParameters(context)
            let priority = request.uri.queryParameters.get("priority") ?? "replica"
            guard priority == "snapshot" else {
                return error(.badRequest, "Bad request: this double recovers shards with priority=snapshot only, not \(priority)")
            }
            let boundary = (request.headers[.contentType] ?? "").components(separatedBy: "boundary=").dropFirst().first ?? ""
            let body = try await request.body.collect(upTo: 1 << 30)
            guard !boundary.isEmpty, let file = formFile(named: "snapshot", in: Array(buffer: body), boundary: boundary) else {
                return error(.badRequest, "Bad request: expected multipart/form-data with a `snapshot` file")
            }
            return await state.recoverSnapshot(name, shard: shard, bytes: file, on: peer)
        }
    }

    static func shardParameters(_ context: BasicRequestContext) throws -> (String, Int) {
        let name = try context.parameters.require("collection")
        guard let shard = Int(try context.parameters.require("shard")) else {
            throw HTTPError(.badRequest, message: "Wrong input: shard_id must be an unsigned integer")
        }
        return (name, shard)
    }

    /// The contents of the form part `name` of a multipart/form-data body.
    static func formFile(named name: String, in body: [UInt8], boundary: String) -> [UInt8]? {
        let delimiter = Array("--\(boundary)".utf8)
        var start = 0
        while let open = body.firstRange(of: delimiter, from: start) {
            guard let headersEnd = body.firstRange(of: Array("\r\n\r\n".utf8), from: open.upperBound),
                let close = body.firstRange(of: Array("\r\n".utf8) + delimiter, from: headersEnd.upperBound)
            else { return nil }
            let headers = String(decoding: body[open.upperBound..<headersEnd.lowerBound], as: UTF8.self)
            if headers.contains("name=\"\(name)\"") { return Array(body[headersEnd.upperBound..<close.lowerBound]) }
            start = close.lowerBound + 2
        }
        return nil
    }
}

extension [UInt8] {
    fileprivate func firstRange(of needle: [UInt8], from start: Int) -> Range<Int>? {
        guard !needle.isEmpty, count >= needle.count, start <= count - needle.count else { return nil }
        var index = start
        while index <= count - needle.count {
            if self[index] == needle[0], self[index..<index + needle.count].elementsEqual(needle) { return index..<index + needle.count }
            index += 1
        }
        return nil
    }
}

extension QdrantState {
    func setReplicaState(_ replicaState: String, collection name: String, shard: Int, peer: UInt64) {
        collections[name]?.replicas[shard]?[peer] = replicaState
    }

    /// The peer a request is for: its own, or the first peer when one server stands for all.
    func me(_ peer: UInt64?) -> UInt64 {
        peer ?? cluster.answering ?? 0
    }

    /// Qdrant's `POST /collections/{c}/shards/{s}/snapshots`: only a peer with a replica of the shard has one to
    /// take, and a replica that is not Active holds (here) nothing.
    func createSnapshot(_ name: String, shard: Int, on peer: UInt64?) -> Response {
        settleTransfers()
        let me = me(peer)
        guard let collection = collections[name] else { return QdrantServer.notFound(collection: name) }
        guard let replicaState = collection.replicas[shard]?[me] else {
            return QdrantServer.error(.notFound, "Not found: Shard \(shard) of collection `\(name)` is not on peer \(me)")
        }
        let points: [[String: Any]] =
            replicaState == "Active"
            ? collection.points.filter { Self.shard(ofPoint: $0.key, shards: collection.shardNumber) == shard }.sorted { $0.key < $1.key }.map {
                ["id": $0.key, "vector": $0.value.vector, "payload": $0.value.payload]
            } : []
        let bytes = Array((try? JSONSerialization.data(withJSONObject: ["shard": shard, "points": points], options: [.sortedKeys])) ?? Data())
        let created = Date()
        let snapshotName = "\(name)-shard-\(shard)-\(me)-\(snapshots.count + 1).snapshot"
        snapshots[snapshotName] = ShardSnapshot(collection: name, shard: shard, peer: me, bytes: bytes, created: created)
        return QdrantServer.ok(Self.describe(snapshotName, snapshots[snapshotName]!))
    }

    func listSnapshots(_ name: String, shard: Int, on peer: UInt64?) -> Response {
        let me = me(peer)
        guard collections[name] != nil else { return QdrantServer.notFound(collection: name) }
        let mine = snapshots.filter { $0.value.collection == name && $0.value.shard == shard && $0.value.peer == me }.sorted { $0.key < $1.key }
        return QdrantServer.ok(mine.map { Self.describe($0.key, $0.value) })
    }

    func snapshotBytes(_ name: String, shard: Int, snapshot: String, on peer: UInt64?) -> [UInt8]? {
        guard let found = snapshots[snapshot], found.collection == name, found.shard == shard, found.peer == me(peer) else { return nil }
        return found.bytes
    }

    func deleteSnapshot(_ name: String, shard: Int, snapshot: String, on peer: UInt64?) -> Response {
        guard snapshotBytes(name, shard: shard, snapshot: snapshot, on: peer) != nil else {
            return QdrantServer.error(.notFound, "Not found: Snapshot \(snapshot) not found")
        }
        snapshots[snapshot] = nil
        return QdrantServer.ok(true)
    }

    /// Qdrant's upload with `priority=snapshot`: the peer's replica of the shard takes the snapshot's points in place
    /// of its own, and is in Recovery until the simulated recovery time has passed.
    func recoverSnapshot(_ name: String, shard: Int, bytes: [UInt8], on peer: UInt64?) -> Response {
        settleTransfers()
        let me = me(peer)
        guard var collection = collections[name] else { return QdrantServer.notFound(collection: name) }
        guard collection.replicas[shard]?[me] != nil else {
            return QdrantServer.error(.notFound, "Not found: Shard \(shard) of collection `\(name)` is not on peer \(me)")
        }
        guard let snapshot = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], (snapshot["shard"] as? NSNumber)?.intValue == shard,
            let points = snapshot["points"] as? [[String: Any]]
        else {
            return QdrantServer.error(.badRequest, "Bad request: the file is not a snapshot of shard \(shard)")
        }
        var restored: [String: Point] = [:]
        for point in points {
            guard let id = point["id"] as? String, let vector = (point["vector"] as? [NSNumber])?.map({ $0.floatValue }), vector.count == collection.size
            else { return QdrantServer.error(.badRequest, "Bad request: the snapshot's vectors do not fit collection `\(name)`") }
            guard Self.shard(ofPoint: id, shards: collection.shardNumber) == shard else {
                return QdrantServer.error(.badRequest, "Bad request: the snapshot holds points of another shard layout")
            }
            restored[id] = Point(vector: vector, payload: point["payload"] as? [String: Any] ?? [:])
        }
        collection.points = collection.points.filter { Self.shard(ofPoint: $0.key, shards: collection.shardNumber) != shard }.merging(restored) { $1 }
        collection.replicas[shard]?[me] = "Recovery"
        collection.recoveries.removeAll { $0.shard == shard && $0.peer == me }
        collection.recoveries.append(ShardRecovery(shard: shard, peer: me, finishes: .now + (cluster.simulation?.transferDuration ?? .zero)))
        _ = collection.nextOperation()
        collections[name] = collection
        cluster.commit += 1
        return QdrantServer.ok(true)
    }

    static func describe(_ name: String, _ snapshot: ShardSnapshot) -> [String: Any] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return [
            "name": name, "creation_time": formatter.string(from: snapshot.created), "size": snapshot.bytes.count,
            "checksum": SHA256.hash(data: snapshot.bytes).map { String(format: "%02x", $0) }.joined(),
        ]
    }
}
