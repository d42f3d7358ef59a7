import Foundation
import Logging
import PostgresNIO

/// A pgvector table: `id text PRIMARY KEY, embedding vector(D), payload jsonb, content_hash text`, an HNSW index
/// for the metric, and the model, dimension and metric in the table's comment (JSON), with the pipeline that made the
/// table (`"pipeline": "<namespace>/<name>"`) when Emu created it for one.
public struct PgvectorSink: VectorSink {
    public let name: String
    public let table: QualifiedTableName
    public let metric: VectorMetric
    /// The VectorPipeline (`<namespace>/<name>`) recorded as the table's maker when Emu creates it.
    public let maker: String?
    private let client: PostgresClient
    private let logger: Logger

    public init(
        name: String, client: PostgresClient, table: String, metric: VectorMetric = .cosine, maker: String? = nil, logger: Logger
    ) throws(ConfigurationError) {
        self.name = name
        self.table = try QualifiedTableName(table, field: "sinks[\(name)].collection")
        self.metric = metric
        self.maker = maker
        self.client = client
        self.logger = logger
    }

    private var operatorClass: String {
        switch metric {
        case .cosine: "vector_cosine_ops"
        case .dot: "vector_ip_ops"
        case .euclid: "vector_l2_ops"
        }
    }

    private var distanceOperator: String {
        switch metric {
        case .cosine: "<=>"
        case .dot: "<#>"
        case .euclid: "<->"
        }
    }

    public func prepare(model: String, dimension: Int) async throws {
        let recorded = SinkRecord(model: model, dimension: dimension, metric: metric)
        let indexName = "\"" + String((table.table.name + "_embedding_hnsw").prefix(63)) + "\""
        try await client.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("vectorsync:sink:" + table.description), 0))", logger: logger)
            try await connection.guardedQuery("CREATE SCHEMA IF NOT EXISTS \(unescaped: table.schema.quoted)", logger: logger)
            // Only a table this transaction creates records a maker: one that was there is someone else's.
            let existing = try await connection.guardedQuery("SELECT to_regclass(\(table.quoted)) IS NOT NULL", logger: logger)
            var existed = false
            for try await value in existing.decode(Bool.self) { existed = value }
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: table.quoted) (
                    id text PRIMARY KEY,
                    embedding vector(\(unescaped: String(dimension))) NOT NULL,
                    payload jsonb NOT NULL,
                    content_hash text NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """, logger: logger)
            let comments = try await connection.guardedQuery(
                "SELECT obj_description(\(table.quoted)::regclass, 'pg_class')", logger: logger)
            var comment: String?
            for try await value in comments.decode(String?.self) { comment = value }
            if let comment, let existing = try? JSONValue.parse(comment), SinkRecord(existing) != recorded {
                throw ConfigurationError(
                    field: "sinks[\(name)].collection",
                    problem: "the table \(table) holds vectors of \(SinkRecord(existing).json.canonicalJSON), not \(recorded.json.canonicalJSON)",
                    fix: "write to a new table, or use the embedder and metric the table was made with")
            }
            if comment == nil {
                let record = recorded.json(madeBy: existed ? nil : maker)
                try await connection.guardedQuery(
                    "COMMENT ON TABLE \(unescaped: table.quoted) IS \(unescaped: SQLLiteral.string(record.canonicalJSON))",
                    logger: logger)
            }
            try await connection.guardedQuery(
                "CREATE INDEX IF NOT EXISTS \(unescaped: indexName) ON \(unescaped: table.quoted) USING hnsw (embedding \(unescaped: operatorClass))",
                logger: logger)
        }
    }

    public func contentHashes(of ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await client.guardedQuery(
            "SELECT id, content_hash FROM \(unescaped: table.quoted) WHERE id = ANY(\(ids))", logger: logger)
        var hashes: [String: String] = [:]
        for row in rows {
            let (id, hash) = try row.decode((String, String).self)
            hashes[id] = hash
        }
        return hashes
    }

    /// Keyset pagination on the primary key's index, in the table's collation.
    public func storedKeys(after cursor: String?, limit: Int) async throws -> StoredKeysPage {
        let rows =
            if let cursor {
                try await client.guardedQuery(
                    "SELECT id FROM \(unescaped: table.quoted) WHERE id > \(cursor) ORDER BY id LIMIT \(limit)", logger: logger)
            } else {
                try await client.guardedQuery("SELECT id FROM \(unescaped: table.quoted) ORDER BY id LIMIT \(limit)", logger: logger)
            }
        var keys: [String] = []
        for row in rows { keys.append(try row.decode(String.self)) }
        return StoredKeysPage(keys: keys, next: keys.count < limit ? nil : keys.last)
    }

    public func upsert(_ records: [VectorRecord]) async throws {
        guard !records.isEmpty else { return }
        try await client.guardedQuery(
            """
            INSERT INTO \(unescaped: table.quoted) AS sink (id, embedding, payload, content_hash)
            SELECT id, embedding::vector, payload::jsonb, content_hash
            FROM unnest(\(records.map(\.id)), \(records.map { Self.vectorText($0.vector) }),
                        \(records.map { JSONValue.object($0.payload).canonicalJSON }), \(records.map(\.contentHash)))
                 AS incoming (id, embedding, payload, content_hash)
            ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, payload = EXCLUDED.payload,
                content_hash = EXCLUDED.content_hash, updated_at = clock_timestamp()
            """, logger: logger)
    }

    public func delete(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await client.guardedQuery("DELETE FROM \(unescaped: table.quoted) WHERE id = ANY(\(ids))", logger: logger)
    }

    public func search(_ vector: [Float], limit: Int) async throws -> [SearchHit] {
        let rows = try await client.guardedQuery(
            """
            SELECT id, payload::text, (embedding \(unescaped: distanceOperator) \(Self.vectorText(vector))::vector)::float8 AS distance
            FROM \(unescaped: table.quoted) ORDER BY distance LIMIT \(limit)
            """, logger: logger)
        var hits: [SearchHit] = []
        for row in rows {
            let (id, payload, distance) = try row.decode((String, String, Double).self)
            guard case .object(let fields) = try JSONValue.parse(payload) else { continue }
            let score: Double =
                switch metric {
                case .cosine: 1 - distance
                case .dot: -distance
                case .euclid: -distance
                }
            hits.append(SearchHit(id: id, score: score, payload: fields))
        }
        return hits
    }

    /// Every vector in the table with its content hash, for verifying a sink against its source.
    public func allRecords() async throws -> [String: (vector: [Float], contentHash: String)] {
        let rows = try await client.guardedQuery(
            "SELECT id, embedding::text, content_hash FROM \(unescaped: table.quoted)", logger: logger)
        var records: [String: (vector: [Float], contentHash: String)] = [:]
        for row in rows {
            let (id, embedding, hash) = try row.decode((String, String, String).self)
            records[id] = (Self.parseVector(embedding), hash)
        }
        return records
    }

    static func vectorText(_ vector: [Float]) -> String {
        "[" + vector.map { String($0) }.joined(separator: ",") + "]"
    }

    static func parseVector(_ text: String) -> [Float] {
        text.trimmingCharacters(in: ["[", "]"]).split(separator: ",").compactMap { Float($0) }
    }
}
