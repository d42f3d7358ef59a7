import AsyncHTTPClient
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// A table keyed by several columns: every key column makes the vector's id, the same way in the trigger, the
/// backfill and Emu, and in both sinks.
@Suite("Composite primary keys")
struct CompositeKeyTests {
    static let createTable = [
        "CREATE SCHEMA docs",
        """
        CREATE TABLE docs.chunks (
            document_id bigint NOT NULL, lang text NOT NULL, body text NOT NULL, title text NOT NULL,
            PRIMARY KEY (document_id, lang))
        """,
        """
        INSERT INTO docs.chunks SELECT d, l, 'Body ' || d || ' in ' || l, 'Title ' || d
            FROM generate_series(1, 150) AS d, unnest(ARRAY['en', 'fr', 'de']) AS l
        """,
    ]

    /// The id contract, written out independently of the code: the JSON array of the key columns' texts.
    static func id(_ document: Int, _ lang: String) -> String { "[\"\(document)\", \"\(lang)\"]" }

    @Test func backfillChangesAndKeyChangesArriveInBothSinksUnderEveryKeyColumn() async throws {
        try await PipelineHarness.with { harness in
            for statement in Self.createTable { try await harness.execute(statement) }
            let source = try SourceTable(
                table: "docs.chunks", primaryKey: ["document_id", "lang"], textTemplate: "{title}: {body}", payloadColumns: ["title"])
            let queue = PostgresQueue(client: harness.client, name: "chunks", logger: harness.logger)
            try await queue.install()
            let pgvector = try PgvectorSink(name: "pgvector", client: harness.client, table: "vectors.chunks", logger: harness.logger)
            let qdrant = try await QdrantServer.start()
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let qdrantSink = try QdrantSink(name: "qdrant", url: qdrant.baseURL, collection: "chunks", apiKey: nil, http: http, logger: harness.logger)
            let pelican = Pelican(
                configuration: try .init(pipeline: "chunks", source: source, batchSize: 37, pollInterval: .milliseconds(200)),
                database: harness.endpoint, queue: queue, logger: harness.logger)
            let emu = Emu(
                configuration: try .init(source: source, receiveWait: .milliseconds(200), retryDelay: .milliseconds(100)),
                source: harness.client, queue: queue, embedder: harness.embedder, sinks: [pgvector, qdrantSink], logger: harness.logger)

            var expected: [String: String] = [:]
            for document in 1...150 {
                for lang in ["en", "fr", "de"] { expected[Self.id(document, lang)] = "Title \(document): Body \(document) in \(lang)" }
            }
            @Sendable func sinksMatch(_ expected: [String: String]) async throws -> Bool {
                let rows = try await pgvector.allRecords()
                let points = await qdrant.points(in: "chunks") ?? [:]
                var qdrantKeys: [String: [Float]] = [:]
                for point in points.values {
                    guard case .object(let payload) = try JSONValue.parse(point.payloadJSON), case .string(let key) = payload["_pk"] ?? .null else {
                        return false
                    }
                    qdrantKeys[key] = point.vector
                }
                guard Set(rows.keys) == Set(expected.keys), Set(qdrantKeys.keys) == Set(expected.keys) else { return false }
                func close(_ stored: [Float]?, _ wanted: [Float]?) -> Bool {
                    guard let stored, let wanted, stored.count == wanted.count else { return false }
                    return zip(stored, wanted).allSatisfy { abs($0 - $1) < 1e-5 }
                }
                return expected.allSatisfy { id, text in
                    let vector = harness.embedder.vector(for: text)
                    return close(rows[id]?.vector, vector) && close(qdrantKeys[id], vector)
                }
            }

            do {
                try await whileRunning([{ try await pelican.run() }, { try await emu.run() }]) {
                    try await eventually("the backfill of 450 rows under composite ids") { [expected] in try await sinksMatch(expected) }
                    #expect(try await harness.scalar("SELECT backfilled_rows FROM vectorsync.pipelines WHERE pipeline = 'chunks'") == 450)

                    try await harness.execute("UPDATE docs.chunks SET body = 'Rewritten' WHERE document_id = 7")
                    try await harness.execute("DELETE FROM docs.chunks WHERE document_id = 8 AND lang = 'fr'")
                    // A change of one key column is a delete of the old id and an insert of the new.
                    try await harness.execute("UPDATE docs.chunks SET lang = 'it' WHERE document_id = 9 AND lang = 'de'")
                    try await harness.execute("INSERT INTO docs.chunks VALUES (9, 'en ', 'Trailing space', 'Odd')")
                    for lang in ["en", "fr", "de"] { expected[Self.id(7, lang)] = "Title 7: Rewritten" }
                    expected[Self.id(8, "fr")] = nil
                    expected[Self.id(9, "de")] = nil
                    expected[Self.id(9, "it")] = "Title 9: Body 9 in de"
                    expected[Self.id(9, "en ")] = "Odd: Trailing space"
                    try await eventually("updates, deletes and key changes") { [expected] in try await sinksMatch(expected) }
                }
            } catch {
                try? await http.shutdown()
                try? await qdrant.shutdown()
                throw error
            }
            try await http.shutdown()
            #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.dead_letters") == 0)
            // The Qdrant point id is derived from the whole key, stably.
            #expect(QdrantSink.pointID(Self.id(7, "en")) == QdrantSink.pointID(Self.id(7, "en")))
            #expect(QdrantSink.pointID(Self.id(7, "en")) != QdrantSink.pointID(Self.id(7, "fr")))
            try await qdrant.shutdown()
        }
    }
}
