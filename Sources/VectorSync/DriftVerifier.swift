import Foundation
import Logging
import PostgresNIO

/// Drift repair: compares the source's keys and content hashes with each sink's, page by page, and re-queues what
/// is missing or stale (as updates) and orphaned (as deletes) on the pipeline's own queue, so Emu's normal path
/// repairs it. One verify per pipeline runs at a time, whatever the number of Emus: the one holding the pipeline's
/// verify lock in the source database; the others find the last verify recent and wait.
public struct DriftVerifier: Sendable {
    public struct Configuration: Sendable {
        public var pipeline: SQLIdentifier
        public var source: SourceTable
        /// Rows per page on either side: what a page query reads and what is held in memory.
        public var pageSize: Int

        public init(pipeline: String, source: SourceTable, pageSize: Int = 500) throws(ConfigurationError) {
            self.pipeline = try SQLIdentifier(pipeline, field: "pipeline")
            guard (1...10_000).contains(pageSize) else {
                throw ConfigurationError(field: "verify page size", problem: "\(pageSize) is out of range", fix: "use 1 to 10000")
            }
            self.source = source
            self.pageSize = pageSize
        }
    }

    /// Why a verify did not run.
    public enum Skipped: Sendable, Hashable {
        /// Another Emu holds the pipeline's verify lock.
        case running
        /// Every sink was verified less than an interval ago.
        case recent
        /// Pelican has not finished the backfill: every row not queued yet would count as missing.
        case backfilling
        /// Changes are still in the queue: every row they have not reached yet would count as drift, and queueing it
        /// again would only add to the backlog (with a verify every few seconds, faster than Emu could drain it).
        case inFlight(messages: Int)
    }

    public enum Outcome: Sendable, Hashable {
        case verified([SinkVerifyReport])
        case skipped(Skipped)
    }

    public let configuration: Configuration
    private let source: PostgresClient
    private let queue: any ChangeQueue
    private let model: String
    private let dimension: Int
    private let sinks: [any VectorSink]
    private let logger: Logger

    public init(
        configuration: Configuration, source: PostgresClient, queue: any ChangeQueue, model: String, dimension: Int, sinks: [any VectorSink],
        logger: Logger
    ) {
        self.configuration = configuration
        self.source = source
        self.queue = queue
        self.model = model
        self.dimension = dimension
        self.sinks = sinks
        self.logger = logger
    }

    /// Verifies every `interval` until cancelled; a failed verify is logged and tried again at the next look.
    /// Looks at least every minute, so a replica takes over within one if the last verifying Emu went away.
    public func run(every interval: Duration) async throws {
        var key: SourceKey?
        while !Task.isCancelled {
            do {
                if key == nil { key = try await source.withConnection { try await configuration.source.describe($0, logger: logger) } }
                switch try await verifyIfDue(interval: interval, key: key!) {
                case .verified(let reports): for report in reports { log(report) }
                case .skipped(let skipped): logger.debug("verify skipped", metadata: ["reason": "\(skipped)"])
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("verify failed; trying again later", metadata: ["error": "\(describe(error))"])
            }
            try await Task.sleep(for: min(interval, .seconds(60)))
        }
    }

    /// One verify of every sink, unless another Emu is verifying, the last verify is younger than `interval`, or the
    /// backfill is still running; a due verify (`interval` given) also waits for the queue to be empty. With `interval`
    /// nil, the verify runs now, backlog or not. Each sink's figures are recorded as it is done.
    public func verifyIfDue(interval: Duration?, key: SourceKey) async throws -> Outcome {
        try await source.withConnection { connection in try await VerifyRecords.install(connection, logger: logger) }
        // The lock is the transaction's, so a verifier that dies or fails releases it with its connection.
        return try await source.withGuardedTransaction(logger: logger) { lock in
            let locked = try await lock.guardedQuery(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(\("vectorsync:verify:" + configuration.pipeline.name), 0))", logger: logger)
            for try await held in locked.decode(Bool.self) where !held { return .skipped(.running) }
            guard try await backfillDone(lock) else { return .skipped(.backfilling) }
            if let interval,
                try await VerifyRecords.allRecent(
                    pipeline: configuration.pipeline.name, sinks: sinks.map(\.name), interval: interval, connection: lock, logger: logger)
            {
                return .skipped(.recent)
            }
            if interval != nil {
                let backlog = try await queue.backlog()
                if backlog > 0 { return .skipped(.inFlight(messages: backlog)) }
            }
            var reports: [SinkVerifyReport] = []
            for sink in sinks {
                var report = try await verify(sink, key: key)
                report.verifiedAt = try await source.withConnection { connection in
                    try await VerifyRecords.record(pipeline: configuration.pipeline.name, report, connection: connection, logger: logger)
                }
                reports.append(report)
            }
            return .verified(reports)
        }
    }

    private func backfillDone(_ connection: PostgresConnection) async throws -> Bool {
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

    /// Compares one sink with the source and queues its repairs as they are found.
    func verify(_ sink: any VectorSink, key: SourceKey) async throws -> SinkVerifyReport {
        let table = configuration.source
        let pageSize = configuration.pageSize
        var requeued: Int64 = 0
        let counts = try await DriftComparison.walk(
            sourcePages: { (cursor: String?) in
                let rows = try await source.withConnection { try await table.rows(after: cursor, limit: pageSize, key: key, connection: $0, logger: logger) }
                let hashes = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, contentHash(of: $0)) })
                return (hashes, rows.count < pageSize ? nil : rows.last?.key)
            },
            lookUpInSink: { try await sink.contentHashes(of: $0) },
            sinkPages: { (cursor: String?) in
                let page = try await sink.storedKeys(after: cursor, limit: pageSize)
                return (page.keys, page.next)
            },
            lookUpInSource: { ids in
                try await source.withConnection { try await table.existingKeys(ids, key: key, connection: $0, logger: logger) }
            },
            repair: { repairs in
                try await requeue(repairs)
                requeued += Int64(repairs.upserts.count + repairs.deletes.count)
            })
        return SinkVerifyReport(sink: sink.name, verifiedAt: Date(), counts: counts, requeued: requeued)
    }

    /// Queues the repairs as changes, numbered from the outbox's sequence as the backfill's are.
    private func requeue(_ repairs: DriftRepairs) async throws {
        let operations = repairs.upserts.map { ($0, ChangeMessage.Operation.update) } + repairs.deletes.map { ($0, .delete) }
        try await source.withGuardedTransaction(logger: logger) { transaction in
            let numbers = try await transaction.guardedQuery(
                "SELECT nextval(pg_get_serial_sequence('\(unescaped: CaptureSchema.schema).outbox', 'seq')) FROM generate_series(1, \(operations.count))",
                logger: logger)
            var sequence: [Int64] = []
            for try await seq in numbers.decode(Int64.self) { sequence.append(seq) }
            let messages = zip(operations, sequence).map { operation, seq in
                ChangeMessage(table: configuration.source.name.description, pk: operation.0, op: operation.1, seq: seq)
            }
            try await queue.send(messages, within: transaction)
        }
    }

    private func contentHash(of row: SourceRow) -> String {
        VectorRecord.contentHash(model: model, dimension: dimension, text: row.text, payload: row.payload)
    }

    private func log(_ report: SinkVerifyReport) {
        let counts = report.counts
        let level: Logger.Level = report.requeued > 0 ? .notice : .info
        logger.log(
            level: level, "verified a sink against the source",
            metadata: [
                "sink": "\(report.sink)", "sourceRows": "\(counts.sourceRows)", "sinkRows": "\(counts.sinkRows)", "missing": "\(counts.missing)",
                "stale": "\(counts.stale)", "orphaned": "\(counts.orphaned)", "requeued": "\(report.requeued)",
            ])
    }
}
