import Foundation
import Logging
import Metrics
import PostgresNIO

/// Migration between sinks, as the "expand/contract" pattern has it: a sink added to a running pipeline gets a
/// backfill of its own while the others keep streaming. Emu registers the sinks it writes (`SinkBackfillRecords`);
/// for each new one it walks the source in primary-key pages, looks each page's content hashes up in that sink
/// alone, and queues what the sink lacks or holds stale on the pipeline's own queue. Emu's normal path then writes
/// only the sinks whose hash differs, so the sinks that were there already are not rewritten, and changes keep
/// flowing to all of them meanwhile. A page is one transaction that holds the sink's row, so several Emus take
/// turns and a restarted one continues from the checkpoint. Once the backfill is done and the sink has caught up,
/// the sink is compared with another one of the pipeline (recall@10 on sampled rows) so that a team can cut reads
/// over with evidence.
public struct SinkBackfiller: Sendable {
    public struct Configuration: Sendable {
        public var pipeline: SQLIdentifier
        public var source: SourceTable
        /// Whether new sinks are backfilled: false when the pipeline does not backfill (`spec.source.backfill`).
        public var backfills: Bool
        public var pageSize: Int
        /// Rows sampled for a comparison between sinks.
        public var comparisonSamples: Int
        /// How often a waiting backfiller looks again (for the pipeline's own backfill to finish, or a sink to catch up).
        public var pollInterval: Duration

        public init(
            pipeline: String, source: SourceTable, backfills: Bool = true, pageSize: Int = 500, comparisonSamples: Int = 20,
            pollInterval: Duration = .seconds(2)
        ) throws(ConfigurationError) {
            self.pipeline = try SQLIdentifier(pipeline, field: "pipeline")
            guard (1...10_000).contains(pageSize) else {
                throw ConfigurationError(field: "sink backfill page size", problem: "\(pageSize) is out of range", fix: "use 1 to 10000")
            }
            guard (1...1000).contains(comparisonSamples) else {
                throw ConfigurationError(field: "comparison samples", problem: "\(comparisonSamples) is out of range", fix: "use 1 to 1000")
            }
            self.source = source
            self.backfills = backfills
            self.pageSize = pageSize
            self.comparisonSamples = comparisonSamples
            self.pollInterval = pollInterval
        }
    }

    /// What one look found to do.
    public enum Step: Sendable, Hashable {
        /// A page of a sink's backfill was walked.
        case advanced(sink: String, rows: Int, queued: Int)
        /// The pipeline's own backfill has not finished: rows it has not queued yet would all count as missing.
        case waitingForPipelineBackfill
        /// A sink's backfill is done but sampled rows are not in it (or in its reference) yet: Emu is still writing.
        case waitingForCatchUp(sink: String)
        case compared(sink: String, SinkComparisonReport)
        /// Nothing is left to backfill or compare.
        case finished
    }

    public let configuration: Configuration
    private let source: PostgresClient
    private let queue: any ChangeQueue
    private let embedder: any Embedder
    private let sinks: [any VectorSink]
    private let logger: Logger

    public init(
        configuration: Configuration, source: PostgresClient, queue: any ChangeQueue, embedder: any Embedder, sinks: [any VectorSink], logger: Logger
    ) {
        self.configuration = configuration
        self.source = source
        self.queue = queue
        self.embedder = embedder
        self.sinks = sinks
        self.logger = logger
    }

    /// Registers the sinks, then backfills and compares the new ones until none is left; returns then. Failures
    /// are logged and tried again after the poll interval.
    public func run() async throws {
        var key: SourceKey?
        var registered = false
        while !Task.isCancelled {
            do {
                if key == nil { key = try await source.withConnection { try await configuration.source.describe($0, logger: logger) } }
                if !registered {
                    try await register()
                    registered = true
                }
                let step = try await next(key: key!)
                log(step)
                switch step {
                case .finished: return
                case .advanced, .compared: continue
                case .waitingForPipelineBackfill, .waitingForCatchUp: break
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("sink backfill failed; trying again", metadata: ["error": "\(describe(error))"])
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// Records the sinks this Emu writes; returns each one's state.
    @discardableResult
    public func register() async throws -> [String: SinkBackfillReport.State] {
        try await source.withConnection { connection in
            try await SinkBackfillRecords.install(connection, logger: logger)
            return try await SinkBackfillRecords.register(
                pipeline: configuration.pipeline.name, sinks: sinks.map(\.name), backfills: configuration.backfills, connection: connection,
                logger: logger)
        }
    }

    /// Does the next thing there is to do: a page of a pending sink's backfill, else a comparison owed.
    public func next(key: SourceKey) async throws -> Step {
        let records = try await source.withConnection {
            try await SinkBackfillRecords.read(pipeline: configuration.pipeline.name, connection: $0, logger: logger)
        }
        let states = Dictionary(uniqueKeysWithValues: records.map { ($0.sink, $0) })
        let pending = sinks.filter { states[$0.name]?.state == .pending }
        if !pending.isEmpty {
            guard try await pipelineBackfillDone() else { return .waitingForPipelineBackfill }
            for sink in pending {
                if let step = try await backfillPage(of: sink, key: key) { return step }
            }
            // Every pending sink is being stepped by another Emu right now.
            return .waitingForCatchUp(sink: pending[0].name)
        }
        for sink in sinks where states[sink.name]?.state == .done && states[sink.name]?.comparison == nil {
            guard let reference = reference(for: sink, states: states) else { continue }
            return try await compare(sink, with: reference, key: key)
        }
        return .finished
    }

    /// The sink another is compared with: the first of Emu's sinks that was fed before it (or finished before it).
    private func reference(for sink: any VectorSink, states: [String: SinkBackfillReport]) -> (any VectorSink)? {
        sinks.first { other in
            guard other.name != sink.name, let record = states[other.name] else { return false }
            return record.state == .covered
                || (record.state == .done && (record.completedAt ?? .distantFuture) < (states[sink.name]?.completedAt ?? .distantPast))
        }
    }

    private func pipelineBackfillDone() async throws -> Bool {
        try await source.withConnection { connection in
            let installed = try await connection.guardedQuery(
                "SELECT to_regclass('\(unescaped: CaptureSchema.schema).pipelines') IS NOT NULL", logger: logger)
            for try await exists in installed.decode(Bool.self) where !exists { return false }
            let rows = try await connection.guardedQuery(
                """
                SELECT backfill_done FROM \(unescaped: CaptureSchema.schema).pipelines WHERE pipeline = \(configuration.pipeline.name)
                """, logger: logger)
            for try await done in rows.decode(Bool.self) { return done }
            return false
        }
    }

    /// One page of `sink`'s backfill in one transaction, queueing what it lacks; nil when another Emu holds it.
    private func backfillPage(of sink: any VectorSink, key: SourceKey) async throws -> Step? {
        let pipeline = configuration.pipeline.name
        let table = configuration.source
        let pageSize = configuration.pageSize
        return try await source.withGuardedTransaction(logger: logger) { transaction in
            guard let checkpoint = try await SinkBackfillRecords.lockPending(pipeline: pipeline, sink: sink.name, transaction: transaction, logger: logger)
            else { return nil }
            let rows = try await table.rows(after: checkpoint, limit: pageSize, key: key, connection: transaction, logger: logger)
            let stored = try await sink.contentHashes(of: rows.map(\.key))
            let lacking = rows.filter { stored[$0.key] != contentHash(of: $0) }.map(\.key)
            if !lacking.isEmpty { try await enqueue(lacking, within: transaction) }
            let finished = rows.count < pageSize
            try await SinkBackfillRecords.advance(
                pipeline: pipeline, sink: sink.name, checkpoint: rows.last?.key, rows: rows.count, queued: lacking.count, finished: finished,
                transaction: transaction, logger: logger)
            Counter(label: "vectorsync_sink_backfill_rows_total", dimensions: [("sink", sink.name)]).increment(by: rows.count)
            Counter(label: "vectorsync_sink_backfill_queued_total", dimensions: [("sink", sink.name)]).increment(by: lacking.count)
            return .advanced(sink: sink.name, rows: rows.count, queued: lacking.count)
        }
    }

    /// Queues the keys as backfill messages, numbered from the outbox's sequence as the pipeline's backfill numbers its own.
    private func enqueue(_ keys: [String], within transaction: PostgresConnection) async throws {
        let numbers = try await transaction.guardedQuery(
            "SELECT nextval(pg_get_serial_sequence('\(unescaped: CaptureSchema.schema).outbox', 'seq')) FROM generate_series(1, \(keys.count))",
            logger: logger)
        var sequence: [Int64] = []
        for try await seq in numbers.decode(Int64.self) { sequence.append(seq) }
        let messages = zip(keys, sequence).map { ChangeMessage(table: configuration.source.name.description, pk: $0, op: .backfill, seq: $1) }
        try await queue.send(messages, within: transaction)
    }

    /// recall@10 of `sink` against `reference` over sampled source rows, each row's own text the query; deferred
    /// while a sampled row, or a neighbour either sink found, is not yet in both sinks with the same content (Emu is
    /// still writing the backfill or a change).
    private func compare(_ sink: any VectorSink, with reference: any VectorSink, key: SourceKey) async throws -> Step {
        let samples = try await source.withConnection {
            try await configuration.source.sample(configuration.comparisonSamples, key: key, connection: $0, logger: logger)
        }
        let hashes = Dictionary(uniqueKeysWithValues: samples.map { ($0.key, contentHash(of: $0)) })
        for candidate in [sink, reference] {
            let stored = try await candidate.contentHashes(of: Array(hashes.keys))
            guard hashes.allSatisfy({ stored[$0.key] == $0.value }) else { return .waitingForCatchUp(sink: candidate.name) }
        }
        var vectors: [[Float]] = []
        if !samples.isEmpty { vectors = try await embedder.embed(samples.map(\.text)) }
        var results: [(expected: Set<String>, found: Set<String>)] = []
        for vector in vectors {
            let expected = Set(try await reference.search(vector, limit: 10).map(\.id))
            guard !expected.isEmpty else { continue }
            results.append((expected, Set(try await sink.search(vector, limit: 10).map(\.id))))
        }
        // A neighbour one sink has and the other has not yet (or holds with other content) is Emu's lag, not the
        // index's recall: the comparison waits for it.
        let neighbours = Array(results.reduce(into: Set<String>()) { $0.formUnion($1.expected.union($1.found)) })
        if !neighbours.isEmpty {
            let inSink = try await sink.contentHashes(of: neighbours)
            let inReference = try await reference.contentHashes(of: neighbours)
            guard inSink.count == neighbours.count, inSink == inReference else {
                return .waitingForCatchUp(sink: inSink.count < inReference.count ? sink.name : reference.name)
            }
        }
        let recalls = results.map { Double($0.found.intersection($0.expected).count) / Double($0.expected.count) }
        let report = SinkComparisonReport(
            reference: reference.name, recallAt10: recalls.isEmpty ? 1 : recalls.reduce(0, +) / Double(recalls.count), samples: recalls.count,
            comparedAt: Date())
        Gauge(label: "vectorsync_sink_recall_at_10", dimensions: [("sink", sink.name), ("reference", reference.name)]).record(report.recallAt10)
        try await source.withConnection {
            try await SinkBackfillRecords.recordComparison(pipeline: configuration.pipeline.name, sink: sink.name, report, connection: $0, logger: logger)
        }
        return .compared(sink: sink.name, report)
    }

    private func contentHash(of row: SourceRow) -> String {
        VectorRecord.contentHash(model: embedder.model, dimension: embedder.dimension, text: row.text, payload: row.payload)
    }

    private func log(_ step: Step) {
        switch step {
        case .advanced(let sink, let rows, let queued):
            logger.info("sink backfill page", metadata: ["sink": "\(sink)", "rows": "\(rows)", "queued": "\(queued)"])
        case .compared(let sink, let report):
            logger.notice(
                "compared a sink with another",
                metadata: ["sink": "\(sink)", "reference": "\(report.reference)", "recallAt10": "\(report.recallAt10)", "samples": "\(report.samples)"])
        case .waitingForPipelineBackfill, .waitingForCatchUp, .finished:
            logger.debug("sink backfill", metadata: ["step": "\(step)"])
        }
    }
}
