import Crypto
import Foundation

/// A row's vector as a sink stores it; the id is the row's primary key as text.
public struct VectorRecord: Sendable, Hashable {
    public var id: String
    public var vector: [Float]
    public var payload: [String: JSONValue]
    /// Identifies what the vector was made from (embedder, text, payload): an unchanged row is not embedded again.
    public var contentHash: String

    public init(id: String, vector: [Float], payload: [String: JSONValue], contentHash: String) {
        self.id = id
        self.vector = vector
        self.payload = payload
        self.contentHash = contentHash
    }
}

extension VectorRecord {
    /// What a vector is made from: the embedder, the text and the payload. An equal hash means nothing to redo.
    public static func contentHash(model: String, dimension: Int, text: String, payload: [String: JSONValue]) -> String {
        var hasher = SHA256()
        for part in [model, String(dimension), text, JSONValue.object(payload).canonicalJSON] {
            hasher.update(data: Array(part.utf8))
            hasher.update(data: [0])
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A page of a sink's keys; `next` continues after it, nil at the end.
public struct StoredKeysPage: Sendable, Hashable {
    public var keys: [String]
    public var next: String?

    public init(keys: [String], next: String?) {
        self.keys = keys
        self.next = next
    }
}

public struct SearchHit: Sendable, Hashable {
    public var id: String
    /// Higher is more similar, whatever the metric.
    public var score: Double
    public var payload: [String: JSONValue]
}

public enum VectorMetric: String, Sendable, Hashable, CaseIterable {
    case cosine = "Cosine"
    case dot = "Dot"
    case euclid = "Euclid"
}

/// A vector store the pipeline writes to. Writes are idempotent: the same record written twice is one vector.
public protocol VectorSink: Sendable {
    /// The sink's name in the pipeline, for logs and errors.
    var name: String { get }

    /// Creates the table or collection when missing, recording the model, dimension and metric, and fails when an
    /// existing one was made for another embedder.
    func prepare(model: String, dimension: Int) async throws

    /// The content hashes stored for those of `ids` the sink holds.
    func contentHashes(of ids: [String]) async throws -> [String: String]

    /// Up to `limit` of the row keys the sink holds, in the sink's own order, after `cursor` (nil: from the start),
    /// for verifying the sink against its source without holding it in memory.
    func storedKeys(after cursor: String?, limit: Int) async throws -> StoredKeysPage

    func upsert(_ records: [VectorRecord]) async throws

    /// Deletes these ids; ids the sink does not hold are ignored.
    func delete(ids: [String]) async throws

    /// The `limit` nearest vectors, most similar first.
    func search(_ vector: [Float], limit: Int) async throws -> [SearchHit]
}
