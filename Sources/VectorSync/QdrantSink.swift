import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A Qdrant collection, over its REST API: created when missing with the embedder's dimension, the metric, and the
/// model in the collection's metadata; points carry the row's payload plus `_pk` (the row's key) and
/// `_content_hash`. Qdrant ids are unsigned integers or UUIDs: a key that is one is used as it is, any other key
/// becomes a UUID derived from it (so the same row always maps to the same point), as do integers above 2^53.
public struct QdrantSink: VectorSink {
    public let name: String
    public let baseURL: String
    public let collection: String
    public let metric: VectorMetric
    /// The VectorPipeline (`<namespace>/<name>`) recorded as the collection's maker when Emu creates it.
    public let maker: String?
    private let apiKey: String?
    private let http: HTTPClient
    private let logger: Logger

    public init(
        name: String, url: String, collection: String, apiKey: String?, metric: VectorMetric = .cosine, maker: String? = nil, http: HTTPClient,
        logger: Logger
    ) throws(ConfigurationError) {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""), components.host != nil else {
            throw ConfigurationError(field: "sinks[\(name)].endpoint.url", problem: "\"\(url)\" is not an http(s) URL", fix: "write e.g. http://qdrant:6333")
        }
        guard !collection.isEmpty, collection.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw ConfigurationError(
                field: "sinks[\(name)].collection", problem: "\"\(collection)\" is not a collection name", fix: "use letters, digits, _, - and .")
        }
        self.name = name
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.collection = collection
        self.metric = metric
        self.maker = maker
        self.apiKey = apiKey
        self.http = http
        self.logger = logger
    }

    public func prepare(model: String, dimension: Int) async throws {
        let exists = try await call(.GET, "/collections/\(collection)/exists")
        if case .object(let result) = exists, result["exists"] == .bool(true) {
            guard case .object(let info) = try await call(.GET, "/collections/\(collection)"),
                case .object(let config) = info["config"] ?? .null, case .object(let params) = config["params"] ?? .null,
                case .object(let vectors) = params["vectors"] ?? .null
            else { throw QdrantError.unexpectedAnswer("GET /collections/\(collection)") }
            let size = vectors["size"].flatMap { $0.intValue.map { Int($0) } }
            let distance = vectors["distance"].flatMap { if case .string(let d) = $0 { d } else { nil } }
            let recordedModel: String? = {
                guard case .object(let metadata) = config["metadata"] ?? .null, case .string(let model) = metadata["model"] ?? .null else { return nil }
                return model
            }()
            guard size == dimension, distance == metric.rawValue, recordedModel == nil || recordedModel == model else {
                throw ConfigurationError(
                    field: "sinks[\(name)].collection",
                    problem:
                        "the collection \(collection) holds \(size.map(String.init) ?? "?")-dimensional \(distance ?? "?") vectors of \(recordedModel ?? "an unknown model"), not \(dimension)-dimensional \(metric.rawValue) vectors of \(model)",
                    fix: "write to a new collection, or use the embedder and metric the collection was made with")
            }
            return
        }
        _ = try await call(
            .PUT, "/collections/\(collection)",
            body: .object([
                "vectors": .object(["size": .int(Int64(dimension)), "distance": .string(metric.rawValue)]),
                "metadata": SinkRecord(model: model, dimension: dimension, metric: metric).json(madeBy: maker),
            ]))
    }

    public func contentHashes(of ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let answer = try await call(
            .POST, "/collections/\(collection)/points",
            body: .object(["ids": .array(ids.map(Self.pointID)), "with_payload": .array([.string("_pk"), .string("_content_hash")])]))
        guard case .array(let records) = answer else { throw QdrantError.unexpectedAnswer("POST /collections/\(collection)/points") }
        var hashes: [String: String] = [:]
        for case .object(let record) in records {
            if case .object(let payload) = record["payload"] ?? .null, case .string(let key) = payload["_pk"] ?? .null,
                case .string(let hash) = payload["_content_hash"] ?? .null
            {
                hashes[key] = hash
            }
        }
        return hashes
    }

    /// Qdrant's scroll API in point-id order; the cursor is the next point id as JSON. Points without `_pk` were not
    /// written by a pipeline and are not listed.
    public func storedKeys(after cursor: String?, limit: Int) async throws -> StoredKeysPage {
        var body: [String: JSONValue] = [
            "limit": .int(Int64(limit)), "with_payload": .array([.string("_pk")]), "with_vector": .bool(false),
        ]
        if let cursor { body["offset"] = try JSONValue.parse(cursor) }
        let answer = try await call(.POST, "/collections/\(collection)/points/scroll", body: .object(body))
        guard case .object(let result) = answer, case .array(let points) = result["points"] ?? .null else {
            throw QdrantError.unexpectedAnswer("POST /collections/\(collection)/points/scroll")
        }
        let keys: [String] = points.compactMap { point in
            guard case .object(let fields) = point, case .object(let payload) = fields["payload"] ?? .null,
                case .string(let key) = payload["_pk"] ?? .null
            else { return nil }
            return key
        }
        let next = result["next_page_offset"].flatMap { $0 == .null ? nil : $0.canonicalJSON }
        return StoredKeysPage(keys: keys, next: next)
    }

    public func upsert(_ records: [VectorRecord]) async throws {
        guard !records.isEmpty else { return }
        let points: [JSONValue] = records.map { record in
            var payload = record.payload
            payload["_pk"] = .string(record.id)
            payload["_content_hash"] = .string(record.contentHash)
            return .object([
                "id": Self.pointID(record.id), "vector": .array(record.vector.map { .double(Double($0)) }), "payload": .object(payload),
            ])
        }
        _ = try await call(.PUT, "/collections/\(collection)/points?wait=true", body: .object(["points": .array(points)]))
    }

    public func delete(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await call(.POST, "/collections/\(collection)/points/delete?wait=true", body: .object(["points": .array(ids.map(Self.pointID))]))
    }

    public func search(_ vector: [Float], limit: Int) async throws -> [SearchHit] {
        let answer = try await call(
            .POST, "/collections/\(collection)/points/query",
            body: .object(["query": .array(vector.map { .double(Double($0)) }), "limit": .int(Int64(limit)), "with_payload": .bool(true)]))
        guard case .object(let result) = answer, case .array(let points) = result["points"] ?? .null else {
            throw QdrantError.unexpectedAnswer("POST /collections/\(collection)/points/query")
        }
        return points.compactMap { point in
            guard case .object(let fields) = point, let score = fields["score"]?.doubleValue,
                case .object(var payload) = fields["payload"] ?? .null, case .string(let key) = payload["_pk"] ?? .null
            else { return nil }
            payload["_content_hash"] = nil
            // Qdrant's Euclid and Manhattan scores are distances: negate so that higher is more similar everywhere.
            return SearchHit(id: key, score: metric == .euclid ? -score : score, payload: payload)
        }
    }

    /// The point id of a row key: the key itself when Qdrant accepts it, else a UUID made from its SHA-256.
    static func pointID(_ key: String) -> JSONValue {
        // Integers stay exact in JSONValue; keys beyond Int64 (Qdrant takes u64) take the UUID path.
        if let number = Int64(key), number >= 0, String(number) == key { return .int(number) }
        if let uuid = UUID(uuidString: key) { return .string(uuid.uuidString.lowercased()) }
        var bytes = Array(SHA256.hash(data: Array(("vectorsync:" + key).utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x80  // version 8: custom
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 9562 variant
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return .string(uuid.uuidString.lowercased())
    }

    /// Sends a request and returns the envelope's `result`; Qdrant's error message otherwise (never the API key).
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "content-type", value: "application/json")
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        if let body { request.body = .bytes(ByteBuffer(string: body.canonicalJSON)) }
        let response = try await http.execute(request, timeout: .seconds(60), logger: logger)
        let bytes = try await response.body.collect(upTo: 256 << 20)
        let envelope = try? JSONValue.parse(String(buffer: bytes))
        guard response.status == .ok, case .object(let fields) = envelope else {
            var message = String(buffer: bytes)
            if case .object(let fields) = envelope, case .object(let status) = fields["status"] ?? .null, case .string(let error) = status["error"] ?? .null {
                message = error
            }
            throw QdrantError.refused(method: method.rawValue, path: path, status: Int(response.status.code), message: message)
        }
        return fields["result"] ?? .null
    }
}

public enum QdrantError: Error, CustomStringConvertible {
    case refused(method: String, path: String, status: Int, message: String)
    case unexpectedAnswer(String)

    public var description: String {
        switch self {
        case .refused(let method, let path, let status, let message): "Qdrant answered \(method) \(path) with \(status): \(message)"
        case .unexpectedAnswer(let request): "Qdrant's answer to \(request) is not what its API describes"
        }
    }
}
