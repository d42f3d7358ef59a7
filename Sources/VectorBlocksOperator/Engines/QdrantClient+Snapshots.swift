import AsyncHTTPClient
import Foundation
import JSONValues
import NIOCore
import NIOHTTP1

/// The parts of Qdrant's REST API a backup and a restore use, asked of one peer: its local replicas, shard
/// snapshots (taken, read as a stream, deleted, and recovered from an upload), and collections made from a config.
extension QdrantClient {
    func call<Result: Decodable>(_ method: HTTPMethod, _ path: String, body: Data, as type: Result.Type) async throws -> Result {
        let bytes = try await call(method, path, body: body)
        do {
            return try Self.decoder.decode(Envelope<Result>.self, from: bytes).result
        } catch {
            throw Failure(description: "\(method) \(path): unexpected answer: \(error)")
        }
    }

    /// A replica this peer holds: Qdrant's LocalShardInfo.
    struct LocalReplica: Sendable, Hashable {
        var shard: Int
        var state: String
        var points: Int64
    }

    /// This peer's id and the replicas of the collection it holds itself.
    func localReplicas(of collection: String) async throws -> (peer: UInt64, replicas: [LocalReplica]) {
        struct Answer: Decodable {
            struct Local: Decodable {
                var shardId: Int
                var state: String
                var pointsCount: Int64
            }
            var peerId: UInt64
            var localShards: [Local]
        }
        let answer = try await call(.GET, "/collections/\(Self.escaped(collection))/cluster", as: Answer.self)
        return (answer.peerId, answer.localShards.map { LocalReplica(shard: $0.shardId, state: $0.state, points: $0.pointsCount) })
    }

    /// The collection's configuration (`config` of GET /collections/{name}), kept whole for the manifest.
    func collectionConfig(_ collection: String) async throws -> JSONValue {
        let data = try await call(.GET, "/collections/\(Self.escaped(collection))")
        guard let answer = try? JSONValue.parse(String(decoding: data, as: UTF8.self)), let config = answer["result"]?["config"] else {
            throw Failure(description: "GET /collections/\(collection): the answer has no config")
        }
        return config
    }

    func collectionExists(_ collection: String) async throws -> Bool {
        struct Answer: Decodable { var exists: Bool }
        return try await call(.GET, "/collections/\(Self.escaped(collection))/exists", as: Answer.self).exists
    }

    func createCollection(_ collection: String, body: JSONValue) async throws {
        try await call(.PUT, "/collections/\(Self.escaped(collection))", body: Data(body.canonicalJSON.utf8))
    }

    func countPoints(_ collection: String) async throws -> Int64 {
        struct Answer: Decodable { var count: Int64 }
        return try await call(.POST, "/collections/\(Self.escaped(collection))/points/count", body: Data(#"{"exact":true}"#.utf8), as: Answer.self).count
    }

    /// Takes a snapshot of this peer's replica of the shard; returns its name.
    func createShardSnapshot(_ collection: String, shard: Int) async throws -> String {
        struct Answer: Decodable { var name: String }
        return try await call(.POST, "/collections/\(Self.escaped(collection))/shards/\(shard)/snapshots?wait=true", as: Answer.self).name
    }

    /// The snapshot's bytes as they arrive; the caller reads the body.
    func openShardSnapshot(_ collection: String, shard: Int, name: String) async throws -> HTTPClientResponse {
        let path = "/collections/\(Self.escaped(collection))/shards/\(shard)/snapshots/\(Self.escaped(name))"
        var request = HTTPClientRequest(url: baseURL + path)
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        guard response.status == .ok else {
            let data = Data((try? await response.body.collect(upTo: 1 << 20))?.readableBytesView ?? ByteBuffer().readableBytesView)
            let message = (try? Self.decoder.decode(ErrorEnvelope.self, from: data))?.status.error ?? "HTTP \(response.status.code)"
            throw Failure(description: "GET \(path): \(message)")
        }
        return response
    }

    func deleteShardSnapshot(_ collection: String, shard: Int, name: String) async throws {
        try await call(.DELETE, "/collections/\(Self.escaped(collection))/shards/\(shard)/snapshots/\(Self.escaped(name))?wait=true")
    }

    /// Recovers this peer's replica of the shard from a snapshot streamed in (`length` bytes), the snapshot's data
    /// taking priority over what the replica holds.
    func recoverShard<Bytes: AsyncSequence & Sendable>(_ collection: String, shard: Int, snapshot: Bytes, length: Int64) async throws
    where Bytes.Element == ByteBuffer {
        let path = "/collections/\(Self.escaped(collection))/shards/\(shard)/snapshots/upload?priority=snapshot&wait=true"
        let form = MultipartFile(field: "snapshot", fileName: "shard-\(shard).snapshot", contents: snapshot)
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        request.headers.add(name: "content-type", value: "multipart/form-data; boundary=\(form.boundary)")
        request.body = .stream(form, length: .known(form.length(ofContents: length)))
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard response.status == .ok else {
            let message = (try? Self.decoder.decode(ErrorEnvelope.self, from: data))?.status.error ?? "HTTP \(response.status.code)"
            throw Failure(description: "POST \(path): \(message)")
        }
    }
}

/// A multipart/form-data body of one file whose contents stream from another sequence (a snapshot read from S3),
/// so no snapshot is held in memory on its way to the peer.
struct MultipartFile<Contents: AsyncSequence & Sendable>: AsyncSequence, Sendable where Contents.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let boundary = "vectorblocks-\(UInt64.random(in: 0...UInt64.max))"
    let head: String
    let contents: Contents

    init(field: String, fileName: String, contents: Contents) {
        head =
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        self.contents = contents
    }

    var tail: String { "\r\n--\(boundary)--\r\n" }

    func length(ofContents length: Int64) -> Int64 {
        Int64(head.utf8.count) + length + Int64(tail.utf8.count)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        enum Stage { case head, contents, tail, done }
        var stage = Stage.head
        let head: String
        let tail: String
        var inner: Contents.AsyncIterator

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case .head:
                stage = .contents
                return ByteBuffer(string: head)
            case .contents:
                if let chunk = try await inner.next() { return chunk }
                stage = .done
                return ByteBuffer(string: tail)
            case .tail, .done:
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(head: head, tail: tail, inner: contents.makeAsyncIterator())
    }
}
