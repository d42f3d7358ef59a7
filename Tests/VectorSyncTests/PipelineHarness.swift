import Foundation
import Logging
import PipelineFixtures
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// A real PostgreSQL with the products table, a client running against it, the postgres queue, and a pgvector sink
/// in the same database; Pelicans and Emus are started and stopped by the tests.
final class PipelineHarness: Sendable {
    static let pipeline = "products"
    static let dimension = 64

    let server: PostgresServer
    let endpoint: PostgresEndpoint
    let client: PostgresClient
    let catalog: ProductCatalog
    let source: SourceTable
    let queue: PostgresQueue
    let sink: PgvectorSink
    let embedder: HashEmbedder
    let logger: Logger

    private init(server: PostgresServer, client: PostgresClient, maxReceiveCount: Int, logger: Logger) throws {
        self.server = server
        self.endpoint = try PostgresEndpoint(url: server.url(), field: "test")
        self.client = client
        self.catalog = try ProductCatalog()
        self.source = try catalog.sourceTable()
        self.queue = PostgresQueue(client: client, name: Self.pipeline, maxReceiveCount: maxReceiveCount, logger: logger)
        self.sink = try PgvectorSink(name: "pgvector", client: client, table: "vectors.products", logger: logger)
        self.embedder = try HashEmbedder(dimension: Self.dimension)
        self.logger = logger
    }

    /// Runs `body` with a fresh server holding `rows` generated products, and stops everything afterwards.
    static func with(rows: Int64 = 0, maxReceiveCount: Int = 5, _ body: @Sendable (PipelineHarness) async throws -> Void) async throws {
        try await PostgresServer.with { server in
            try await run(server: server, rows: rows, maxReceiveCount: maxReceiveCount, body)
        }
    }

    private static func run(
        server: PostgresServer, rows: Int64, maxReceiveCount: Int, _ body: @Sendable (PipelineHarness) async throws -> Void
    ) async throws {
        var logger = Logger(label: "vectorsync.test")
        logger.logLevel = .warning
        let endpoint = try PostgresEndpoint(url: server.url(), field: "test")
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        let harness = try PipelineHarness(server: server, client: client, maxReceiveCount: maxReceiveCount, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await endpoint.withConnection(logger: logger) { connection in
                try await harness.catalog.createTable(connection, logger: logger)
                var next: Int64 = 1
                while next <= rows {
                    let last = min(next + 999, rows)
                    try await harness.catalog.insert(ProductCatalog.products(next...last), connection, logger: logger)
                    next = last + 1
                }
            }
            do {
                try await harness.queue.install()
                try await body(harness)
            } catch let error as PSQLError {
                // PostgresNIO's description hides the server's message; a test may show it (and the query).
                throw TestSetupError(String(reflecting: error))
            }
        }
    }

    /// A Pelican feeding `queue`, by default the harness's postgres queue.
    func pelican(backfill: Bool = true, batchSize: Int = 200, queue: (any ChangeQueue)? = nil) throws -> Pelican {
        Pelican(
            configuration: try .init(
                pipeline: Self.pipeline, source: source, backfill: backfill, batchSize: batchSize, pollInterval: .milliseconds(500),
                retryInterval: .milliseconds(200)),
            database: endpoint, queue: queue ?? self.queue, logger: logger)
    }

    func emu(
        batchSize: Int = 64, retryDelay: Duration = .milliseconds(100), alsoWritingTo extraSinks: [any VectorSink] = [],
        queue: (any ChangeQueue)? = nil
    ) throws -> Emu {
        Emu(
            configuration: try .init(
                source: source, batchSize: batchSize, visibilityTimeout: .seconds(30), receiveWait: .milliseconds(500),
                retryDelay: retryDelay, maxRetryDelay: .seconds(1)),
            source: client, queue: queue ?? self.queue, embedder: embedder, sinks: [sink] + extraSinks, logger: logger)
    }

    /// The flags that point the `pelican` and `emu` executables at this harness's table, as the harness's own
    /// Pelicans and Emus are configured.
    var sourceArguments: [String] {
        [
            "--pipeline", Self.pipeline, "--source-url", server.url(), "--table", catalog.table.description, "--primary-key", "id",
            "--text-template", "{name}: {description}", "--payload-column", "sku", "--payload-column", "price", "--log-level", "info",
        ]
    }

    func insertProducts(_ range: ClosedRange<Int64>) async throws {
        try await endpoint.withConnection(logger: logger) { try await catalog.insert(ProductCatalog.products(range), $0, logger: logger) }
    }

    /// Runs SQL on the source database as the application would, in its own transaction.
    func execute(_ sql: String) async throws {
        try await endpoint.withConnection(logger: logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    func scalar(_ sql: String) async throws -> Int64 {
        try await endpoint.withConnection(logger: logger) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            for try await value in rows.decode(Int64.self) { return value }
            return 0
        }
    }

    /// The current text of every source row that can be embedded, by id.
    func expectedTexts(excluding excluded: Set<String> = []) async throws -> [String: String] {
        try await endpoint.withConnection(logger: logger) { connection in
            let rows = try await connection.query("SELECT id::text, to_jsonb(p)::text FROM products p", logger: logger)
            var texts: [String: String] = [:]
            for try await (id, json) in rows.decode((String, String).self) where !excluded.contains(id) {
                guard case .object(let columns) = try JSONValue.parse(json) else { continue }
                texts[id] = source.template.render(columns)
            }
            return texts
        }
    }

    /// Whether the sink holds exactly the source's ids, each with the vector of the row's current text.
    func sinkMatchesSource(excluding excluded: Set<String> = []) async throws -> Bool {
        try await mismatch(excluding: excluded) == nil
    }

    /// The first difference between the pgvector sink and the source, or nil.
    func mismatch(excluding excluded: Set<String> = []) async throws -> String? {
        let stored = ((try? await sink.allRecords()) ?? [:]).mapValues(\.vector)
        return try await mismatch(stored, excluding: excluded)
    }

    /// The first difference between a Qdrant collection and the source, or nil; points are matched by their `_pk`.
    func mismatch(qdrant: QdrantServer, collection: String) async throws -> String? {
        var stored: [String: [Float]] = [:]
        for point in (await qdrant.points(in: collection) ?? [:]).values {
            guard case .object(let payload) = try JSONValue.parse(point.payloadJSON), case .string(let key) = payload["_pk"] ?? .null else {
                return "a point without _pk: \(point.payloadJSON)"
            }
            stored[key] = point.vector
        }
        return try await mismatch(stored, excluding: [])
    }

    private func mismatch(_ stored: [String: [Float]], excluding excluded: Set<String>) async throws -> String? {
        let expected = try await expectedTexts(excluding: excluded)
        guard Set(expected.keys) == Set(stored.keys) else {
            let missing = Set(expected.keys).subtracting(stored.keys)
            let extra = Set(stored.keys).subtracting(expected.keys)
            return "ids differ: \(missing.count) missing (e.g. \(missing.sorted().prefix(3))), \(extra.count) extra (e.g. \(extra.sorted().prefix(3)))"
        }
        for (id, text) in expected {
            let vector = embedder.vector(for: text) ?? []
            let actual = stored[id]!
            guard vector.count == actual.count, zip(vector, actual).allSatisfy({ abs($0 - $1) < 1e-5 }) else {
                return "the vector of \(id) is not the one of its current text \"\(text)\""
            }
        }
        return nil
    }

    /// What keeps the table's and the pgvector sink's ids from agreeing, or nil once they agree.
    private func idsProblem(excluding excluded: Set<String>) async -> String? {
        do {
            let differing = try await idsDiffering(excluding: excluded)
            return differing == 0 ? nil : "\(differing) ids differ between the table and the pgvector sink"
        } catch {
            return "the pgvector sink cannot be compared yet: \(String(reflecting: error))"
        }
    }

    /// How many ids are in the table and not the pgvector sink or the other way round, counted by the database: the
    /// cheap first look, so the full comparison runs only once the ids agree.
    private func idsDiffering(excluding excluded: Set<String>) async throws -> Int64 {
        try await endpoint.withConnection(logger: logger) { connection in
            let excluded = Array(excluded)
            let rows = try await connection.query(
                """
                SELECT count(*) FROM ((SELECT id::text FROM products EXCEPT SELECT id FROM \(unescaped: sink.table.quoted))
                                      UNION ALL (SELECT id FROM \(unescaped: sink.table.quoted) EXCEPT SELECT id::text FROM products)) AS differing
                WHERE id <> ALL(\(excluded))
                """, logger: logger)
            for try await count in rows.decode(Int64.self) { return count }
            return -1
        }
    }

    /// What every session of the database is doing and waiting for, and the queue's undelivered messages: what a
    /// stalled pipeline is stuck on.
    func databaseActivity() async -> String {
        let report = try? await endpoint.withConnection(logger: logger) { connection in
            var lines: [String] = []
            let sessions = try await connection.query(
                """
                SELECT format('pid %s %s xact %s s wait %s/%s: %s', pid, state,
                              round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1),
                              wait_event_type, wait_event, left(query, 160))
                FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                """, logger: logger)
            for try await line in sessions.decode(String.self) { lines.append(line) }
            let locks = try await connection.query(
                "SELECT format('pid %s waits for %s %s', pid, locktype, mode) FROM pg_locks WHERE NOT granted", logger: logger)
            for try await line in locks.decode(String.self) { lines.append(line) }
            // The postgres queue's table; a pipeline through SQS has none.
            guard
                let jobs = try? await connection.query(
                    """
                    SELECT format('%s jobs, %s visible now, receive counts %s..%s', count(*), count(*) FILTER (WHERE visible_at <= clock_timestamp()),
                                  min(receive_count), max(receive_count))
                    FROM vectorsync.jobs
                    """, logger: logger)
            else { return lines.joined(separator: "\n") }
            for try await line in jobs.decode(String.self) { lines.append(line) }
            return lines.joined(separator: "\n")
        }
        return report ?? "(the database's activity could not be read)"
    }

    /// Waits (polling, up to `timeout`) until the sink matches the source, and fails with the last difference.
    func waitUntilSinkMatchesSource(
        excluding excluded: Set<String> = [], timeout: Duration = .seconds(300), qdrant: (server: QdrantServer, collection: String)? = nil
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: String? = "never compared"
        var interval = Duration.milliseconds(100)
        while ContinuousClock.now < deadline {
            last = await idsProblem(excluding: excluded)
            if last == nil { last = try await mismatch(excluding: excluded) }
            if last == nil, let qdrant {
                last = try await mismatch(qdrant: qdrant.server, collection: qdrant.collection).map { "Qdrant: \($0)" }
            }
            if last == nil { return }
            // The full comparison parses and embeds every row; polled every 200 ms by several tests at once it took
            // the CPU from the very Emus it waited for (a debug build, on a loaded machine).
            try await Task.sleep(for: interval)
            interval = min(interval * 2, .seconds(2))
        }
        Issue.record("the sink did not match the source within \(timeout): \(last ?? "")\n\(await databaseActivity())")
        throw TestSetupError("sink never matched the source")
    }
}

/// Runs the workers (Pelicans, Emus) while `body` runs, then cancels them and waits until they have stopped.
func whileRunning<Result: Sendable>(
    _ workers: [@Sendable () async throws -> Void], _ body: () async throws -> Result
) async throws -> Result {
    let tasks = workers.map { worker in Task { try await worker() } }
    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }
    do {
        let result = try await body()
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}

/// Polls `condition` until it holds or `timeout` passes; an error (a table not created yet) counts as "not yet".
func eventually(
    _ what: String, timeout: Duration = .seconds(120), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    var interval = Duration.milliseconds(100)
    while ContinuousClock.now < deadline {
        do {
            if try await condition() { return }
        } catch {
            lastError = error
        }
        // Backing off: some conditions read whole tables, and the workers they wait for share the CPU.
        try await Task.sleep(for: interval)
        interval = min(interval * 2, .seconds(1))
    }
    throw TestSetupError("\(what) did not happen within \(timeout)" + (lastError.map { "; last error: \(String(reflecting: $0))" } ?? ""))
}
