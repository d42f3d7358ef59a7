import ArgumentParser
import Foundation
import Logging
import NIOCore
import PipelineFixtures
import PostgresNIO
import VectorSync

/// The pipeline's figures: backfill of generated products through Pelican, the postgres queue, Emu and the hash
/// embedder into a pgvector sink; the raw rate at which the same Postgres takes the same vectors by COPY (into a table
/// with the same HNSW index); and the lag from an UPDATE to the new vector being in the sink at a steady update rate.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Backfills generated products into pgvector through the pipeline and by raw COPY; prints rows/s and update lag.",
        discussion: """
            Needs a Postgres with pgvector; it drops and recreates the schemas bench and bench_vectors, the table bench_raw_vectors and the pipeline
            `bench` in it, so use a database of its own:
              vectorblocks-bench pipeline --database-url postgres://postgres@127.0.0.1:5432/bench --rows 1000000
            """)

    @Option(help: "The Postgres (with pgvector) to use: source, queue and sink.")
    var databaseURL: String

    @Option(help: "Generated product rows.")
    var rows = 1_000_000

    @Option(help: "The hash embedder's dimension.")
    var dimension = 384

    @Option(help: "Emu workers running at once.")
    var emus = 2

    @Option(help: "Messages per Emu batch.")
    var batchSize = 256

    @Option(help: "Updates in the lag measurement.")
    var lagUpdates = 1_000

    @Option(help: "Updates per second in the lag measurement.")
    var updateRate = 100

    func validate() throws {
        guard rows > 0, dimension > 0, emus > 0, batchSize > 0, lagUpdates > 0, updateRate > 0 else {
            throw ValidationError("every count must be positive")
        }
        guard lagUpdates <= rows else { throw ValidationError("--lag-updates must not exceed --rows: each update touches another row") }
    }

    func run() async throws {
        var logger = Logger(label: "vectorblocks.bench.pipeline")
        logger.logLevel = .warning
        let endpoint = try PostgresEndpoint(url: databaseURL, field: "--database-url")
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await measure(endpoint: endpoint, client: client, logger: logger)
            }
        } catch let error as PSQLError {
            // The benchmark's own database: the server's message (and the query) help more than PostgresNIO's summary.
            throw ValidationError(String(reflecting: error))
        }
    }

    private func measure(endpoint: PostgresEndpoint, client: PostgresClient, logger: Logger) async throws {
        let catalog = try ProductCatalog(table: "bench.products")
        let source = try catalog.sourceTable()
        let embedder = try HashEmbedder(dimension: dimension)
        print("pipeline benchmark: \(rows) rows, hash embedder of \(dimension) dimensions, \(emus) Emus, batches of \(batchSize)")
        try await endpoint.withConnection(logger: logger) { connection in
            for statement in [
                "DROP SCHEMA IF EXISTS bench CASCADE", "DROP SCHEMA IF EXISTS bench_vectors CASCADE", "CREATE SCHEMA bench",
                "CREATE SCHEMA bench_vectors", "CREATE EXTENSION IF NOT EXISTS vector", "DROP TABLE IF EXISTS public.bench_raw_vectors",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            // What an earlier run left of the pipeline `bench`, where the tables exist.
            try await connection.query(
                """
                DO $forget$ BEGIN
                    IF to_regclass('vectorsync.pipelines') IS NOT NULL THEN DELETE FROM vectorsync.pipelines WHERE pipeline = 'bench'; END IF;
                    IF to_regclass('vectorsync.outbox') IS NOT NULL THEN DELETE FROM vectorsync.outbox WHERE pipeline = 'bench'; END IF;
                    IF to_regclass('vectorsync.jobs') IS NOT NULL THEN DELETE FROM vectorsync.jobs WHERE queue = 'bench'; END IF;
                END $forget$
                """, logger: logger)
            try await catalog.createTable(connection, logger: logger)
            var next: Int64 = 1
            while next <= Int64(rows) {
                let last = min(next + 4_999, Int64(rows))
                try await catalog.insert(ProductCatalog.products(next...last), connection, logger: logger)
                next = last + 1
            }
        }
        print("loaded \(rows) source rows")

        let rawSeconds = try await rawCopy(endpoint: endpoint, source: source, embedder: embedder, logger: logger)
        let rawRate = Double(rows) / rawSeconds
        print(String(format: "raw COPY: %.0f rows/s (%.1f s)", rawRate, rawSeconds))

        let queue = PostgresQueue(client: client, name: "bench", logger: logger)
        try await queue.install()
        let sink = try PgvectorSink(name: "pgvector", client: client, table: "bench_vectors.products", logger: logger)
        try await sink.prepare(model: embedder.model, dimension: dimension)
        let pelican = Pelican(
            configuration: try .init(pipeline: "bench", source: source, batchSize: 2_000, pollInterval: .milliseconds(200)),
            database: endpoint, queue: queue, logger: logger)
        let emu = Emu(
            configuration: try .init(source: source, batchSize: batchSize, receiveWait: .milliseconds(200)),
            source: client, queue: queue, embedder: embedder, sinks: [sink], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { workers in
            workers.addTask { try await pelican.run() }
            for _ in 0..<emus { workers.addTask { try await emu.run() } }
            defer { workers.cancelAll() }

            let start = ContinuousClock.now
            while try await count("SELECT count(*) FROM bench_vectors.products", client: client) < rows {
                try await Task.sleep(for: .milliseconds(250))
            }
            let pipelineSeconds = (ContinuousClock.now - start).seconds
            let pipelineRate = Double(rows) / pipelineSeconds
            print(String(format: "pipeline backfill: %.0f rows/s (%.1f s)", pipelineRate, pipelineSeconds))
            print(String(format: "pipeline / raw COPY: %.0f%%", 100 * pipelineRate / rawRate))

            let lags = try await updateLag(client: client, logger: logger)
            print(
                String(
                    format: "update lag at %d updates/s over %d updates: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                    updateRate, lagUpdates, (lags.percentile(0.5) ?? 0) * 1000, (lags.percentile(0.99) ?? 0) * 1000, (lags.max() ?? 0) * 1000))
        }
    }

    /// Embeds the source rows batch by batch and COPYs the vectors into a table like the sink's, HNSW index included.
    private func rawCopy(endpoint: PostgresEndpoint, source: SourceTable, embedder: HashEmbedder, logger: Logger) async throws -> Double {
        try await endpoint.withConnection(logger: logger) { connection in
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE public.bench_raw_vectors (id text PRIMARY KEY, embedding vector(\(dimension)) NOT NULL, payload jsonb NOT NULL,
                            content_hash text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())
                        """), logger: logger)
            try await connection.query(
                "CREATE INDEX ON public.bench_raw_vectors USING hnsw (embedding vector_cosine_ops)", logger: logger)
            let start = ContinuousClock.now
            // PostgresNIO quotes COPY's table name as one identifier: the raw table lives in the search path.
            try await connection.copyFrom(table: "bench_raw_vectors", columns: ["id", "embedding", "payload", "content_hash"], logger: logger) { writer in
                var next: Int64 = 1
                while next <= Int64(rows) {
                    let last = min(next + 999, Int64(rows))
                    var buffer = ByteBuffer()
                    for product in ProductCatalog.products(next...last) {
                        let text = "\(product.name): \(product.description)"
                        let vector = embedder.vector(for: text) ?? []
                        let payload: [String: JSONValue] = ["_pk": .string(String(product.id)), "price": .double(product.price), "sku": .string(product.sku)]
                        let hash = VectorRecord.contentHash(model: embedder.model, dimension: dimension, text: text, payload: payload)
                        buffer.writeString(
                            "\(product.id)\t[\(vector.map { String($0) }.joined(separator: ","))]\t\(JSONValue.object(payload).canonicalJSON)\t\(hash)\n")
                    }
                    try await writer.write(buffer)
                    next = last + 1
                }
            }
            return (ContinuousClock.now - start).seconds
        }
    }

    /// Updates `lagUpdates` different rows at `updateRate` per second and returns, per update, the seconds from the
    /// UPDATE's commit to the new vector's write in the sink (both stamped by the database's clock).
    private func updateLag(client: PostgresClient, logger: Logger) async throws -> [Double] {
        let ids = Array((1...Int64(rows)).shuffled().prefix(lagUpdates))
        let start = ContinuousClock.now
        for (index, id) in ids.enumerated() {
            try await Task.sleep(until: start + .seconds(Double(index) / Double(updateRate)))
            try await client.query(
                "UPDATE bench.products SET description = \("Lag probe \(index): now with a brand new description."), last_updated = clock_timestamp() WHERE id = \(id)",
                logger: logger)
        }
        let deadline = ContinuousClock.now + .seconds(600)
        let lagQuery: PostgresQuery = """
            SELECT extract(epoch FROM v.updated_at - p.last_updated)::float8 FROM bench.products p
            JOIN bench_vectors.products v ON v.id = p.id::text WHERE p.id = ANY(\(ids)) AND v.updated_at >= p.last_updated
            """
        while ContinuousClock.now < deadline {
            var lags: [Double] = []
            for try await lag in try await client.query(lagQuery, logger: logger).decode(Double.self) { lags.append(lag) }
            if lags.count == ids.count { return lags.sorted() }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ValidationError("not every update reached the sink within 600 s")
    }

    private func count(_ sql: String, client: PostgresClient) async throws -> Int {
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int64.self) { return Int(value) }
        return 0
    }
}
