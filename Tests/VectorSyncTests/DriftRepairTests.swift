import AsyncHTTPClient
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// Drift repair against a real PostgreSQL with pgvector and the Qdrant double: vectors deleted, corrupted and added
/// behind the pipeline's back are found by the verify, re-queued, and repaired by Emu's normal path.
@Suite("Drift repair")
struct DriftRepairTests {
    static let rows: Int64 = 600

    @Test func verifyFindsAndRequeuesWhatDriftedInBothSinksAndEmuRepairsIt() async throws {
        try await PipelineHarness.with(rows: Self.rows) { harness in
            let qdrant = try await QdrantServer.start(apiKey: "drift-key")
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await scenario(harness, qdrant: qdrant, http: http)
            } catch {
                try? await http.shutdown()
                try? await qdrant.shutdown()
                throw error
            }
            try await http.shutdown()
            try await qdrant.shutdown()
        }
    }

    private func scenario(_ harness: PipelineHarness, qdrant: QdrantServer, http: HTTPClient) async throws {
        let qdrantSink = try QdrantSink(
            name: "qdrant:products", url: qdrant.baseURL, collection: "products", apiKey: "drift-key", http: http, logger: harness.logger)
        let sinks: [any VectorSink] = [harness.sink, qdrantSink]
        // Small pages, so that both sides are walked in many of them.
        let verifier = DriftVerifier(
            configuration: try .init(pipeline: PipelineHarness.pipeline, source: harness.source, pageSize: 64), source: harness.client,
            queue: harness.queue, model: harness.embedder.model, dimension: harness.embedder.dimension, sinks: sinks, logger: harness.logger)
        let key = try await harness.endpoint.withConnection(logger: harness.logger) {
            try await harness.source.describe($0, logger: harness.logger)
        }
        #expect(try await verifier.verifyIfDue(interval: nil, key: key) == .skipped(.backfilling))

        let pelican = try harness.pelican()
        try await whileRunning([{ try await pelican.run() }, { try await harness.emu(alsoWritingTo: [qdrantSink]).run() }]) {
            try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
        }
        #expect(try await verifier.verifyIfDue(interval: nil, key: key) == .verified(try await reports(harness, requeued: [0, 0])))

        // Behind the pipeline's back: pgvector loses 5 vectors, 3 keep their vector under a wrong hash, 1 gets a wrong
        // vector and hash, and 2 orphans appear (one whose id cannot even be a key of the bigint table).
        try await harness.execute("DELETE FROM vectors.products WHERE id IN ('10', '11', '12', '13', '14')")
        try await harness.execute("UPDATE vectors.products SET content_hash = 'tampered' WHERE id IN ('20', '21', '22')")
        try await harness.execute(
            "UPDATE vectors.products SET content_hash = 'tampered', embedding = (SELECT embedding FROM vectors.products WHERE id = '99') WHERE id = '30'")
        try await harness.execute(
            """
            INSERT INTO vectors.products (id, embedding, payload, content_hash)
            SELECT new_id, embedding, payload, content_hash FROM vectors.products, (VALUES ('99999'), ('not-a-key')) AS orphan (new_id)
            WHERE id = '1'
            """)
        // Qdrant loses 2 points, 1 gets a wrong vector and hash, and 1 orphan appears.
        try await qdrantSink.delete(ids: ["40", "41"])
        let wrong = [Float](repeating: 0.125, count: PipelineHarness.dimension)
        try await qdrantSink.upsert([
            VectorRecord(id: "50", vector: wrong, payload: ["_pk": .string("50")], contentHash: "tampered"),
            VectorRecord(id: "88888", vector: wrong, payload: ["_pk": .string("88888")], contentHash: "tampered"),
        ])
        #expect(try await harness.mismatch() != nil)

        guard case .verified(let found) = try await verifier.verifyIfDue(interval: nil, key: key) else {
            Issue.record("the verify did not run")
            return
        }
        let pgvector = try #require(found.first { $0.sink == harness.sink.name })
        #expect(pgvector.counts == DriftCounts(sourceRows: Self.rows, sinkRows: Self.rows - 5 + 2, missing: 5, stale: 4, orphaned: 2))
        #expect(pgvector.requeued == 11)
        let inQdrant = try #require(found.first { $0.sink == qdrantSink.name })
        #expect(inQdrant.counts == DriftCounts(sourceRows: Self.rows, sinkRows: Self.rows - 2 + 1, missing: 2, stale: 1, orphaned: 1))
        #expect(inQdrant.requeued == 4)
        // Recorded in the source database, as the operator reads it.
        let recorded = try await harness.endpoint.withConnection(logger: harness.logger) {
            try await PipelineState.read(pipeline: PipelineHarness.pipeline, table: "products", connection: $0, logger: harness.logger)
        }
        #expect(recorded.verifications.map(\.counts) == found.sorted { $0.sink < $1.sink }.map(\.counts))
        #expect(recorded.verifications.map(\.requeued) == found.sorted { $0.sink < $1.sink }.map(\.requeued))
        #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE queue = 'products'") == 15)

        // The normal path repairs both sinks from the queue alone.
        try await whileRunning([{ try await harness.emu(alsoWritingTo: [qdrantSink]).run() }]) {
            try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
        }
        #expect(try await harness.scalar("SELECT count(*) FROM vectors.products WHERE id = 'not-a-key'") == 0)
        #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.dead_letters") == 0)
        #expect(try await verifier.verifyIfDue(interval: nil, key: key) == .verified(try await reports(harness, requeued: [0, 0])))
        // Verified just now: not due again within the interval.
        #expect(try await verifier.verifyIfDue(interval: .seconds(3600), key: key) == .skipped(.recent))
    }

    /// The verify reports as recorded, checked to be in step: every source row in every sink, nothing to repair.
    private func reports(_ harness: PipelineHarness, requeued: [Int64]) async throws -> [SinkVerifyReport] {
        let recorded = try await harness.endpoint.withConnection(logger: harness.logger) {
            try await PipelineState.read(pipeline: PipelineHarness.pipeline, table: "products", connection: $0, logger: harness.logger)
        }
        #expect(recorded.verifications.map(\.counts) == Array(repeating: DriftCounts(sourceRows: Self.rows, sinkRows: Self.rows), count: 2))
        #expect(recorded.verifications.map(\.requeued) == requeued)
        return recorded.verifications
    }

    @Test func oneVerifyPerPipelineAtATime() async throws {
        try await PipelineHarness.with(rows: 50) { harness in
            let pelican = try harness.pelican()
            try await whileRunning([{ try await pelican.run() }, { try await harness.emu().run() }]) {
                try await harness.waitUntilSinkMatchesSource()
            }
            let verifier = DriftVerifier(
                configuration: try .init(pipeline: PipelineHarness.pipeline, source: harness.source), source: harness.client, queue: harness.queue,
                model: harness.embedder.model, dimension: harness.embedder.dimension, sinks: [harness.sink], logger: harness.logger)
            let key = try await harness.endpoint.withConnection(logger: harness.logger) {
                try await harness.source.describe($0, logger: harness.logger)
            }
            // Another Emu's verify holds the pipeline's lock.
            let outcome = try await harness.endpoint.withConnection(logger: harness.logger) { other in
                try await other.withGuardedTransaction(logger: harness.logger) { transaction in
                    try await transaction.guardedQuery(
                        "SELECT pg_advisory_xact_lock(hashtextextended(\("vectorsync:verify:" + PipelineHarness.pipeline), 0))", logger: harness.logger)
                    return try await verifier.verifyIfDue(interval: nil, key: key)
                }
            }
            #expect(outcome == .skipped(.running))
            guard case .verified(let reports) = try await verifier.verifyIfDue(interval: nil, key: key) else {
                Issue.record("the verify did not run once the lock was free")
                return
            }
            #expect(reports.map(\.counts) == [DriftCounts(sourceRows: 50, sinkRows: 50)])

            // A due verify waits while changes are queued: a row they have not reached yet is not drift.
            try await harness.queue.send([ChangeMessage(table: harness.source.name.description, pk: "1", op: .update, seq: 1)])
            #expect(try await verifier.verifyIfDue(interval: .milliseconds(1), key: key) == .skipped(.inFlight(messages: 1)))
        }
    }
}
