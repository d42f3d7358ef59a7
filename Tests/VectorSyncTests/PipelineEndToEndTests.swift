import AsyncHTTPClient
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// The pipeline against a real PostgreSQL with pgvector: after each scenario the sink holds exactly the source's
/// rows, each with the vector of its current text.
@Suite("Pipeline end to end")
struct PipelineEndToEndTests {
    @Test func backfillThenInsertsUpdatesAndDeletesArrive() async throws {
        try await PipelineHarness.with(rows: 3000) { harness in
            let pelican = try harness.pelican()
            let emu = try harness.emu()
            try await whileRunning([{ try await pelican.run() }, { try await emu.run() }]) {
                try await harness.waitUntilSinkMatchesSource()
                #expect(try await harness.scalar("SELECT backfilled_rows FROM vectorsync.pipelines") == 3000)

                try await harness.insertProducts(3001...3010)
                try await harness.execute("UPDATE products SET description = 'Now with a quantum flux capacitor.' WHERE id IN (5, 6, 7)")
                try await harness.execute("UPDATE products SET name = 'Renamed ' || name WHERE id BETWEEN 100 AND 199")
                try await harness.execute("DELETE FROM products WHERE id IN (1, 2, 2999)")
                try await harness.execute("UPDATE products SET id = 9001 WHERE id = 3")
                try await harness.waitUntilSinkMatchesSource()
                #expect(try await harness.scalar("SELECT count(*) FROM vectors.products") == 3007)
                #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.outbox") == 0)
                #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.dead_letters") == 0)

                let hits = try await harness.sink.search(harness.embedder.vector(for: "Now with a quantum flux capacitor.")!, limit: 3)
                #expect(Set(hits.map(\.id)) == ["5", "6", "7"])
                #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
            }
        }
    }

    @Test func dualWriteKeepsPgvectorAndQdrantInStep() async throws {
        try await PipelineHarness.with(rows: 1000) { harness in
            let qdrant = try await QdrantServer.start(apiKey: "dual-write-key")
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let qdrantSink = try QdrantSink(
                    name: "qdrant", url: qdrant.baseURL, collection: "products", apiKey: "dual-write-key", http: http, logger: harness.logger)
                let pelican = try harness.pelican()
                let emu = try harness.emu(alsoWritingTo: [qdrantSink])
                try await whileRunning([{ try await pelican.run() }, { try await emu.run() }]) {
                    try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
                    try await harness.execute("UPDATE products SET description = 'Dual written.' WHERE id BETWEEN 10 AND 19")
                    try await harness.execute("DELETE FROM products WHERE id IN (1, 500)")
                    try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
                    let query = harness.embedder.vector(for: "Dual written.")!
                    let fromQdrant = try await qdrantSink.search(query, limit: 10)
                    let fromPgvector = try await harness.sink.search(query, limit: 10)
                    #expect(Set(fromQdrant.map(\.id)) == Set((10...19).map(String.init)))
                    #expect(Set(fromQdrant.map(\.id)) == Set(fromPgvector.map(\.id)))
                    #expect(fromQdrant.map(\.score) == fromQdrant.map(\.score).sorted(by: >))
                }
            } catch {
                try? await http.shutdown()
                try? await qdrant.shutdown()
                throw error
            }
            try await http.shutdown()
            try await qdrant.shutdown()
        }
    }

    @Test func changesWhilePelicanIsStoppedDuringBackfillStillArrive() async throws {
        try await PipelineHarness.with(rows: 3000) { harness in
            let first = try harness.pelican(batchSize: 50)
            try await whileRunning([{ try await first.run() }]) {
                try await eventually("the backfill to start") {
                    try await harness.scalar("SELECT backfilled_rows FROM vectorsync.pipelines") > 0
                }
            }
            let checkpoint = try await harness.scalar("SELECT backfilled_rows FROM vectorsync.pipelines")
            #expect(checkpoint < 3000)

            // While no Pelican runs, the trigger keeps capturing.
            try await harness.execute("UPDATE products SET description = 'Changed while nobody listened.' WHERE id IN (10, 2900)")
            try await harness.execute("DELETE FROM products WHERE id = 11")
            try await harness.execute(
                "INSERT INTO products (id, name, sku, description, price) VALUES (5000, 'Late Lamp', 'SKU-LATE', 'A lamp added late.', 9.5)")
            #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.outbox WHERE pk IN ('10', '2900', '11', '5000')") == 4)

            let second = try harness.pelican()
            let emu = try harness.emu()
            try await whileRunning([{ try await second.run() }, { try await emu.run() }]) {
                try await harness.waitUntilSinkMatchesSource()
                #expect(try await harness.scalar("SELECT backfill_done::int FROM vectorsync.pipelines") == 1)
                // The backfill resumed from its checkpoint rather than starting again.
                #expect(try await harness.scalar("SELECT backfilled_rows FROM vectorsync.pipelines") <= 3000 + 50)
            }
        }
    }

    @Test func olderMessagesProcessedLastLeaveTheNewerText() async throws {
        try await PipelineHarness.with(rows: 20) { harness in
            let pelican = try harness.pelican()
            try await whileRunning([{ try await pelican.run() }]) {
                try await eventually("the backfill to finish") {
                    try await harness.scalar("SELECT backfill_done::int FROM vectorsync.pipelines") == 1
                }
                try await harness.execute("UPDATE products SET description = 'First edit.' WHERE id = 4")
                try await harness.execute("UPDATE products SET description = 'Second edit, the newest.' WHERE id = 4")
                try await eventually("both updates to be queued") { try await harness.scalar("SELECT count(*) FROM vectorsync.outbox") == 0 }
            }
            // Messages for row 4 delivered newest first, each in its own batch, as a reordering queue would.
            let emu = try harness.emu()
            let key = try await emu.prepare()
            try await harness.queue.send([
                ChangeMessage(table: "public.products", pk: "4", op: .update, seq: Int64.max),
                ChangeMessage(table: "public.products", pk: "4", op: .update, seq: 1),
            ])
            let received = try await harness.queue.receive(maxMessages: 100, visibility: .seconds(60), wait: .seconds(1))
            let forRow4 = try received.filter { try ChangeMessage.decode($0.body).pk == "4" }
                .sorted { try ChangeMessage.decode($0.body).seq > ChangeMessage.decode($1.body).seq }
            #expect(forRow4.count >= 3)
            for message in forRow4 { _ = try await emu.process([message], key: key) }
            _ = try await emu.process(received.filter { !forRow4.contains($0) }, key: key)
            #expect(try await harness.mismatch() == nil)
            #expect(try await harness.queue.backlog() == 0)
            // Search joins the hits back to the current rows and keeps the sink's similarity order.
            let search = SimilaritySearch(
                source: harness.source, client: harness.client, embedder: harness.embedder, sink: harness.sink, logger: harness.logger)
            let results = try await search.search("Second edit, the newest.", limit: 5)
            #expect(results.count == 5)
            #expect(results.first?.hit.id == "4")
            #expect(results.first?.row?["description"] == .string("Second edit, the newest."))
            #expect(results.map(\.hit.score) == results.map(\.hit.score).sorted(by: >))
            #expect(results.allSatisfy { $0.row?["id"].map { "\($0.text)" } == $0.hit.id })
        }
    }

    @Test func aBatchThatOutlastsItsVisibilityTimeoutStaysWithItsWorker() async throws {
        try await PipelineHarness.with(rows: 20) { harness in
            let visibility = Duration.seconds(6)
            let emu = Emu(
                configuration: try .init(source: harness.source, visibilityTimeout: visibility), source: harness.client,
                queue: harness.queue, embedder: SlowEmbedder(hash: harness.embedder, delay: visibility * 2), sinks: [harness.sink],
                logger: harness.logger)
            let key = try await emu.prepare()
            try await harness.queue.send((1...20).map { ChangeMessage(table: "public.products", pk: "\($0)", op: .update, seq: Int64($0)) })
            let batch = try await harness.queue.receive(maxMessages: 64, visibility: visibility, wait: .seconds(1))
            #expect(batch.count == 20)
            // A second worker keeps asking for messages while the first embeds and writes its batch.
            let taken = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var taken = 0
                    while !Task.isCancelled {
                        do {
                            // Long-polling, as a worker does: the queue answers as soon as anything is visible.
                            taken += try await harness.queue.receive(maxMessages: 64, visibility: .seconds(60), wait: .seconds(1)).count
                        } catch {
                            // Cancelled in a receive: the batch was written, the worker ends.
                            if Task.isCancelled { break }
                            throw error
                        }
                    }
                    return taken
                }
                let outcome = try await emu.process(batch, key: key)
                #expect(outcome.upserted == 20)
                group.cancelAll()
                return try await group.next() ?? 0
            }
            #expect(taken == 0, "the second worker received messages of the batch in hand")
            #expect(try await harness.queue.backlog() == 0)
            #expect(try await harness.mismatch() == nil)
        }
    }

    @Test func aCancelledEmuHandsBackTheBatchInHand() async throws {
        try await PipelineHarness.with(rows: 20) { harness in
            let emu = Emu(
                configuration: try .init(source: harness.source, visibilityTimeout: .seconds(600)), source: harness.client,
                queue: harness.queue, embedder: SlowEmbedder(hash: harness.embedder, delay: .seconds(600)), sinks: [harness.sink],
                logger: harness.logger)
            try await harness.queue.send((1...20).map { ChangeMessage(table: "public.products", pk: "\($0)", op: .update, seq: Int64($0)) })
            let worker = Task { try await emu.run() }
            try await eventually("Emu to hold the batch") {
                try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE receive_count > 0") == 20
            }
            worker.cancel()
            _ = await worker.result
            // Handed back at once, not after the ten minutes of its visibility timeout.
            #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE visible_at <= clock_timestamp()") == 20)
            #expect(try await harness.scalar("SELECT count(*) FROM vectors.products") == 0)
        }
    }

    @Test func aRowThatCannotBeEmbeddedEndsInTheDeadLetterQueueAndTheRestFlow() async throws {
        try await PipelineHarness.with(rows: 200, maxReceiveCount: 3) { harness in
            try await harness.execute("UPDATE products SET name = '', description = '...' WHERE id = 42")
            let pelican = try harness.pelican()
            let emu = try harness.emu()
            try await whileRunning([{ try await pelican.run() }, { try await emu.run() }]) {
                try await eventually("the poison row to be dead-lettered") { try await !harness.queue.deadLetters().isEmpty }
                let letters = try await harness.queue.deadLetters()
                #expect(letters.count == 1)
                #expect(try ChangeMessage.decode(letters[0].body).pk == "42")
                #expect(letters[0].error?.contains("no words") == true)
                try await harness.waitUntilSinkMatchesSource(excluding: ["42"])
                try await harness.execute("UPDATE products SET name = 'Fixed' WHERE id = 41")
                try await harness.waitUntilSinkMatchesSource(excluding: ["42"])
                #expect(try await harness.queue.backlog() == 0)
            }
        }
    }

    @Test func aSecondPelicanStaysPassiveUntilTheFirstStops() async throws {
        try await PipelineHarness.with(rows: 100) { harness in
            let first = try harness.pelican()
            let second = try harness.pelican()
            let emu = try harness.emu()
            try await whileRunning([{ try await emu.run() }]) {
                let firstTask = Task { try await first.run() }
                defer { firstTask.cancel() }
                try await eventually("the first Pelican to lead") { await first.status.role == .active }
                try await whileRunning([{ try await second.run() }]) {
                    try await eventually("the second Pelican to stand by") { await second.status.role == .standby }
                    try await harness.waitUntilSinkMatchesSource()
                    try await harness.execute("UPDATE products SET description = 'Queued once.' WHERE id = 7")
                    try await harness.waitUntilSinkMatchesSource()
                    #expect(await second.status.role == .standby)

                    firstTask.cancel()
                    _ = await firstTask.result
                    try await eventually("the second Pelican to take over") { await second.status.role == .active }
                    try await harness.execute("UPDATE products SET description = 'After the takeover.' WHERE id = 8")
                    try await harness.waitUntilSinkMatchesSource()
                }
            }
        }
    }
}

/// The hash embedder taking `delay` over every call, as a slow model server does.
struct SlowEmbedder: Embedder {
    let hash: HashEmbedder
    let delay: Duration
    var model: String { hash.model }
    var dimension: Int { hash.dimension }

    func embed(_ texts: [String]) async throws -> [[Float]] {
        try await Task.sleep(for: delay)
        return try await hash.embed(texts)
    }
}
