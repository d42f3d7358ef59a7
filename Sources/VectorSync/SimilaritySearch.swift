import Logging
import PostgresNIO

/// A search result: the sink's hit joined back to the source row it came from.
public struct SearchResult: Sendable, Hashable {
    public var hit: SearchHit
    /// The row as it is now in the source, or nil when it was deleted since it was embedded.
    public var row: [String: JSONValue]?
}

/// Embeds a query, searches a sink, and joins the hits to the current source rows, keeping the sink's similarity
/// order (the reference UI lost it by letting the database order the join).
public struct SimilaritySearch: Sendable {
    private let source: SourceTable
    private let client: PostgresClient
    private let embedder: any Embedder
    private let sink: any VectorSink
    private let logger: Logger

    public init(source: SourceTable, client: PostgresClient, embedder: any Embedder, sink: any VectorSink, logger: Logger) {
        self.source = source
        self.client = client
        self.embedder = embedder
        self.sink = sink
        self.logger = logger
    }

    public func search(_ query: String, limit: Int) async throws -> [SearchResult] {
        guard let vector = try await embedder.embed([query]).first else { return [] }
        let hits = try await sink.search(vector, limit: limit)
        let rows = try await client.withConnection { connection in
            let key = try await source.describe(connection, logger: logger)
            return try await source.currentColumns(hits.map(\.id), key: key, connection: connection, logger: logger)
        }
        return hits.map { SearchResult(hit: $0, row: rows[$0.id]) }
    }
}
