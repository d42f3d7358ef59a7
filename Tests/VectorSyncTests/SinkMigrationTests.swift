import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// Expand and contract between sinks, against a real PostgreSQL with pgvector: a sink added to a running pipeline
/// is backfilled alone (the first sink is not rewritten) while new rows keep reaching both; it is compared with the
/// first (recall@10); a sink removed is no longer written and keeps its vectors; added again, it backfills again.
@Suite("Sink migration")
struct SinkMigrationTests {
    static let rows: Int64 = 600

    @Test func anAddedSinkIsBackfilledAloneComparedAndARemovedOneKeepsItsData() async throws {
        try await PipelineHarness.with(rows: Self.rows) { harness in
            let first = harness.sink
            let second = try nextSink(harness)
            let pelican = try harness.pelican()
            try await streamIntoTheFirstSink(pelican, harness)
            #expect(try await records(harness).map(\.state) == [.covered])
            let expanded = try await harness.scalar("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")

            // Expand: Emu now writes both; the second backfills alone while new rows stream into both.
            try await whileRunning([
                { try await pelican.run() }, { try await emu([first, second], harness).run() },
                { try await backfiller([first, second], harness).run() },
            ]) {
                try await harness.insertProducts(Self.rows + 1...Self.rows + 50)
                try await eventually("the second sink to hold every row") {
                    try await missing(in: second, harness).isEmpty
                }
                try await eventually("the second sink compared with the first") {
                    try await records(harness).first { $0.sink == second.name }?.comparison != nil
                }
                try await harness.waitUntilSinkMatchesSource()
            }
            // The first sink's vectors of the rows that were there already were not written again.
            #expect(
                try await harness.scalar(
                    "SELECT count(*) FROM vectors.products WHERE id::bigint <= \(Self.rows) AND extract(epoch FROM updated_at) * 1000000 > \(expanded)") == 0)
            let afterExpand = try await records(harness)
            let added = try #require(afterExpand.first { $0.sink == second.name })
            #expect(added.state == .done)
            #expect(added.rowsDone >= Self.rows && added.rowsQueued >= Self.rows, "the backfill walked and queued the table: \(added)")
            let comparison = try #require(added.comparison)
            #expect(comparison.reference == first.name)
            #expect(comparison.samples > 0)
            #expect(comparison.recallAt10 >= 0.9, "the same vectors in both sinks: \(comparison)")
            #expect(afterExpand.first { $0.sink == first.name }?.state == .covered)

            // Contract: the first sink is removed; it is no longer written, and keeps its vectors.
            try await whileRunning([
                { try await pelican.run() }, { try await emu([second], harness).run() }, { try await backfiller([second], harness).run() },
            ]) {
                try await harness.insertProducts(Self.rows + 51...Self.rows + 60)
                try await eventually("the new rows in the second sink") { try await missing(in: second, harness).isEmpty }
            }
            #expect(try await records(harness).map(\.sink) == [second.name])
            #expect(try await harness.scalar("SELECT count(*) FROM vectors.products") == Self.rows + 50)

            // Added again, the first sink missed changes: it backfills again, alone.
            try await whileRunning([
                { try await pelican.run() }, { try await emu([second, first], harness).run() },
                { try await backfiller([second, first], harness).run() },
            ]) {
                try await harness.waitUntilSinkMatchesSource()
            }
            let readded = try #require(try await records(harness).first { $0.sink == first.name })
            #expect(readded.state == .done)
            #expect(readded.rowsQueued == 10, "only the rows it missed: \(readded)")
        }
    }

    /// A neighbour one sink holds and the other does not yet is Emu's lag, not the index's recall: with fewer rows
    /// than ten, every vector is every query's neighbour, so a vector only the first sink holds (one the source no
    /// longer has, so it is never sampled) is always found, and the comparison waits for the sinks to agree.
    @Test func theComparisonWaitsForANeighbourOnlyOneSinkHolds() async throws {
        try await PipelineHarness.with(rows: 8) { harness in
            let first = harness.sink
            let second = try nextSink(harness)
            let pelican = try harness.pelican()
            try await streamIntoTheFirstSink(pelican, harness)
            try await second.prepare(model: harness.embedder.model, dimension: harness.embedder.dimension)
            let backfill = try backfiller([first, second], harness)
            try await backfill.register()
            let key = try await harness.endpoint.withConnection(logger: harness.logger) { try await harness.source.describe($0, logger: harness.logger) }
            var step = try await backfill.next(key: key)
            while case .advanced = step { step = try await backfill.next(key: key) }
            #expect(step == .waitingForCatchUp(sink: second.name), "the second sink holds nothing yet")
            try await whileRunning([{ try await pelican.run() }, { try await emu([first, second], harness).run() }]) {
                try await eventually("the second sink to hold every row") { try await missing(in: second, harness).isEmpty }
            }

            let held = try #require(try await first.allRecords().first)
            try await first.upsert([VectorRecord(id: "999999", vector: held.value.vector, payload: [:], contentHash: held.value.contentHash)])
            #expect(try await backfill.next(key: key) == .waitingForCatchUp(sink: second.name))
            try await first.delete(ids: ["999999"])
            guard case .compared(let sink, let report) = try await backfill.next(key: key) else {
                Issue.record("the sinks agree: the comparison is made")
                return
            }
            #expect(sink == second.name)
            #expect(report.recallAt10 == 1, "\(report)")
        }
    }

    @Test func withoutBackfillsAnAddedSinkOnlyGetsLaterChanges() async throws {
        try await PipelineHarness.with(rows: 20) { harness in
            let second = try nextSink(harness)
            _ = try await backfiller([harness.sink], harness).register()
            let states = try await backfiller([harness.sink, second], harness, backfills: false).register()
            #expect(states == [harness.sink.name: .covered, second.name: .skipped])
        }
    }

    /// The sink a migration adds: a second pgvector table in the same database.
    private func nextSink(_ harness: PipelineHarness) throws -> PgvectorSink {
        try PgvectorSink(name: "vectors.products_next", client: harness.client, table: "vectors.products_next", logger: harness.logger)
    }

    /// The pipeline's first sink streamed until it matches the source. It is fed by the pipeline's own backfill, so
    /// its backfiller registers it and has nothing of its own to do.
    private func streamIntoTheFirstSink(_ pelican: Pelican, _ harness: PipelineHarness) async throws {
        try await whileRunning([{ try await pelican.run() }, { try await emu([harness.sink], harness).run() }]) {
            try await harness.waitUntilSinkMatchesSource()
            try await backfiller([harness.sink], harness).run()
        }
    }

    private func emu(_ sinks: [any VectorSink], _ harness: PipelineHarness) throws -> Emu {
        Emu(
            configuration: try .init(
                source: harness.source, batchSize: 64, visibilityTimeout: .seconds(30), receiveWait: .milliseconds(500),
                retryDelay: .milliseconds(100), maxRetryDelay: .seconds(1)),
            source: harness.client, queue: harness.queue, embedder: harness.embedder, sinks: sinks, logger: harness.logger)
    }

    private func backfiller(_ sinks: [any VectorSink], _ harness: PipelineHarness, backfills: Bool = true) throws -> SinkBackfiller {
        SinkBackfiller(
            configuration: try .init(
                pipeline: PipelineHarness.pipeline, source: harness.source, backfills: backfills, pageSize: 64, pollInterval: .milliseconds(200)),
            source: harness.client, queue: harness.queue, embedder: harness.embedder, sinks: sinks, logger: harness.logger)
    }

    private func records(_ harness: PipelineHarness) async throws -> [SinkBackfillReport] {
        try await harness.endpoint.withConnection(logger: harness.logger) {
            try await PipelineState.read(pipeline: PipelineHarness.pipeline, table: "products", connection: $0, logger: harness.logger).sinkBackfills
        }
    }

    /// The source's ids that `sink` lacks.
    private func missing(in sink: PgvectorSink, _ harness: PipelineHarness) async throws -> Set<String> {
        let stored = try await sink.allRecords()
        let expected = try await harness.expectedTexts()
        return Set(expected.keys.filter { stored[$0] == nil })
    }
}
