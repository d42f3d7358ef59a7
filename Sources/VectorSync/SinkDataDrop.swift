import AsyncHTTPClient
import Logging
import NIOHTTP1
import PostgresNIO

/// Drops a sink's data (a pgvector table, a Qdrant collection) for the VectorPipeline that made it, and for no one
/// else: the record Emu wrote when it created the sink is read again right before the drop, and a sink that does
/// not name `maker` is left as it is.
public enum SinkDataDrop {
    public enum Outcome: Sendable, Hashable {
        case dropped
        /// There was nothing to drop.
        case absent
        /// The sink names another maker, or none (made by hand, or by an Emu that recorded no maker).
        case madeByOther(String?)
    }

    /// Under the lock Emu takes to prepare the table, so no Emu creates it again between the check and the drop.
    /// `DROP TABLE` without `CASCADE`: a view or a foreign key on the table makes it fail, and the table stays.
    public static func dropPgvectorTable(
        _ table: String, ifMadeBy maker: String, connection: PostgresConnection, logger: Logger
    ) async throws -> Outcome {
        let name = try QualifiedTableName(table, field: "collection")
        return try await connection.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("vectorsync:sink:" + name.description), 0))", logger: logger)
            let rows = try await connection.guardedQuery(
                "SELECT to_regclass(\(name.quoted)) IS NOT NULL, obj_description(to_regclass(\(name.quoted)), 'pg_class')", logger: logger)
            var found: (exists: Bool, comment: String?) = (false, nil)
            for try await row in rows.decode((Bool, String?).self) { found = row }
            guard found.exists else { return .absent }
            let recorded = found.comment.flatMap { try? JSONValue.parse($0) }.flatMap(SinkRecord.maker(in:))
            guard recorded == maker else { return .madeByOther(recorded) }
            try await connection.guardedQuery("DROP TABLE \(unescaped: name.quoted)", logger: logger)
            return .dropped
        }
    }

    /// Reads the collection's metadata and deletes the collection when it names `maker`.
    public static func dropQdrantCollection(
        _ collection: String, ifMadeBy maker: String, url: String, apiKey: String?, http: HTTPClient, logger: Logger
    ) async throws -> Outcome {
        let sink = try QdrantSink(name: "qdrant:\(collection)", url: url, collection: collection, apiKey: apiKey, http: http, logger: logger)
        guard case .object(let exists) = try await sink.call(.GET, "/collections/\(collection)/exists"), exists["exists"] == .bool(true) else {
            return .absent
        }
        let info = try await sink.call(.GET, "/collections/\(collection)")
        let recorded = info["config"]?["metadata"].flatMap(SinkRecord.maker(in:))
        guard recorded == maker else { return .madeByOther(recorded) }
        _ = try await sink.call(.DELETE, "/collections/\(collection)")
        return .dropped
    }
}
