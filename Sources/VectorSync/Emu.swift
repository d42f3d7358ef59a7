import Foundation
import Logging
import PostgresNIO

/// Emu: takes batches of change messages, re-reads the rows as they are now, embeds those whose content changed in
/// one call, writes every sink, deletes the vectors of rows that are gone, and acks. A message whose row cannot be
/// embedded is released with its error until the queue dead-letters it; the rest of its batch goes on.
public struct Emu: Sendable {
    public struct Configuration: Sendable {
        public var source: SourceTable
        public var batchSize: Int
        public var visibilityTimeout: Duration
        /// How long a receive waits for the first message.
        public var receiveWait: Duration
        /// The delay before a failed message is retried, doubled with each receive up to `maxRetryDelay`.
        public var retryDelay: Duration
        public var maxRetryDelay: Duration

        public init(
            source: SourceTable, batchSize: Int = 64, visibilityTimeout: Duration = .seconds(60), receiveWait: Duration = .seconds(1),
            retryDelay: Duration = .seconds(1), maxRetryDelay: Duration = .seconds(60)
        ) throws(ConfigurationError) {
            guard (1...10_000).contains(batchSize) else {
                throw ConfigurationError(field: "embedder.batchSize", problem: "\(batchSize) is out of range", fix: "use 1 to 10000 (64 is a good start)")
            }
            guard visibilityTimeout > .zero else {
                throw ConfigurationError(
                    field: "queue.visibilityTimeoutSeconds", problem: "it is not positive", fix: "use at least 1 second (60 is a good start)")
            }
            self.source = source
            self.batchSize = batchSize
            self.visibilityTimeout = visibilityTimeout
            self.receiveWait = receiveWait
            self.retryDelay = retryDelay
            self.maxRetryDelay = maxRetryDelay
        }
    }

    /// What became of one batch.
    public struct BatchOutcome: Sendable, Equatable {
        public var upserted = 0
        public var unchanged = 0
        public var deleted = 0
        /// Messages released for a retry (rows that could not be embedded).
        public var failed = 0
        public var deadLettered = 0
    }

    public let configuration: Configuration
    public let status = EmuStatus()
    private let source: PostgresClient
    private let queue: any ChangeQueue
    private let embedder: any Embedder
    private let sinks: [any VectorSink]
    private let logger: Logger
    private let metrics = PipelineMetrics()

    public init(
        configuration: Configuration, source: PostgresClient, queue: any ChangeQueue, embedder: any Embedder, sinks: [any VectorSink],
        logger: Logger
    ) {
        self.configuration = configuration
        self.source = source
        self.queue = queue
        self.embedder = embedder
        self.sinks = sinks
        self.logger = logger
    }

    /// Checks the source table and prepares every sink; returns the primary key with its types, which `process` needs.
    public func prepare() async throws -> SourceKey {
        let key = try await source.withConnection { try await configuration.source.describe($0, logger: logger) }
        for sink in sinks { try await sink.prepare(model: embedder.model, dimension: embedder.dimension) }
        return key
    }

    /// Runs until cancelled; a cancelled Emu finishes the batch in hand or releases it.
    public func run() async throws {
        let key = try await prepare()
        var consecutiveFailures = 0
        while !Task.isCancelled {
            do {
                let messages = try await queue.receive(
                    maxMessages: configuration.batchSize, visibility: configuration.visibilityTimeout, wait: configuration.receiveWait)
                await status.reachedQueue()
                if messages.isEmpty { continue }
                _ = try await process(messages, key: key)
                consecutiveFailures = 0
            } catch {
                if Task.isCancelled { break }
                await status.failed(describe(error))
                consecutiveFailures += 1
                let delay = retryDelay(attempt: consecutiveFailures)
                logger.warning("emu batch failed; retrying", metadata: ["error": "\(describe(error))", "retryIn": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Handles one batch: acks what was written (or needed nothing), releases rows that could not be embedded, and
    /// dead-letters messages that do not parse. A failure of the source or a sink releases the whole batch.
    public func process(_ messages: [ReceivedMessage], key: SourceKey) async throws -> BatchOutcome {
        metrics.messagesReceived.increment(by: messages.count)
        var outcome = BatchOutcome()
        var byKey: [String: [ReceivedMessage]] = [:]
        for message in messages {
            do {
                let change = try ChangeMessage.decode(message.body)
                guard change.table == configuration.source.name.description else {
                    throw EmuError.foreignTable(change.table, expected: configuration.source.name.description)
                }
                byKey[change.pk, default: []].append(message)
            } catch {
                try await Self.uncancelled { [queue] in try await queue.deadLetter(message, error: "unreadable message: \(error)") }
                metrics.messagesDeadLettered.increment()
                outcome.deadLettered += 1
            }
        }
        guard !byKey.isEmpty else { return outcome }
        let keys = byKey.keys.sorted()
        let written: (outcome: BatchOutcome, rejected: [String: String])
        do {
            written = try await keepingInvisible(byKey.values.joined().map(\.receipt)) { try await write(keys: keys, key: key) }
        } catch {
            // A stopping Emu hands its batch back at once, for the next worker to take.
            let stopping = Task.isCancelled
            let delay = stopping ? .zero : retryDelay(attempt: messages.map(\.receiveCount).max() ?? 1)
            let reason = stopping ? "Emu stopped before the batch was written" : describe(error)
            let receipts = byKey.values.joined().map(\.receipt)
            try? await Self.uncancelled { [queue] in
                for receipt in receipts { try? await queue.release(receipt, after: delay, error: reason) }
            }
            throw error
        }
        var acked: [String] = []
        for (key, keyMessages) in byKey {
            if let reason = written.rejected[key] {
                for message in keyMessages {
                    let delay = retryDelay(attempt: message.receiveCount)
                    try await Self.uncancelled { [queue] in try await queue.release(message.receipt, after: delay, error: reason) }
                }
                outcome.failed += keyMessages.count
            } else {
                acked += keyMessages.map(\.receipt)
            }
        }
        try await Self.uncancelled { [queue, acked] in try await queue.delete(acked) }
        metrics.messagesAcked.increment(by: acked.count)
        outcome.upserted = written.outcome.upserted
        outcome.unchanged = written.outcome.unchanged
        outcome.deleted = written.outcome.deleted
        return outcome
    }

    /// Runs queue bookkeeping to its end although Emu is being stopped: the connection pool refuses a cancelled task
    /// a connection, and a batch that was written must still be acknowledged (and one that was not, handed back).
    private static func uncancelled(_ work: @escaping @Sendable () async throws -> Void) async throws {
        try await Task { try await work() }.value
    }

    /// Runs `body` while extending the visibility of the batch every third of its timeout (two thirds to spare if an
    /// extension is slow), so a batch that outlasts its visibility timeout (a slow embedder, a large batch) is not
    /// handed to another worker meanwhile, nor counted towards the dead-letter queue by the receives that follow.
    private func keepingInvisible<Written: Sendable>(_ receipts: [String], _ body: () async throws -> Written) async throws -> Written {
        try await withThrowingTaskGroup(of: Void.self, returning: Written.self) { group in
            group.addTask { [queue, configuration, logger] in
                while true {
                    try await Task.sleep(for: configuration.visibilityTimeout / 3)
                    do {
                        try await queue.extendVisibility(receipts, by: configuration.visibilityTimeout)
                    } catch {
                        logger.warning("could not extend the visibility of the batch in hand", metadata: ["error": "\(describe(error))"])
                    }
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Reads, embeds and writes the rows of `keys` while holding a per-row advisory lock in the source database:
    /// two workers with messages for one row take turns, so the later always reads (and writes) the newer row and
    /// an older version can never land last. Returns the keys whose text was rejected by the embedder, with why.
    private func write(keys: [String], key: SourceKey) async throws -> (outcome: BatchOutcome, rejected: [String: String]) {
        let table = configuration.source.name.description
        return try await source.withGuardedTransaction(logger: logger) { transaction in
            try await transaction.guardedQuery(
                """
                SELECT count(pg_advisory_xact_lock(lock_key)) FROM (
                    SELECT DISTINCT hashtextextended(\(table + ":") || key, 0) AS lock_key FROM unnest(\(keys)::text[]) AS key
                    ORDER BY lock_key) AS ordered
                """, logger: logger)
            // A key that cannot be one of the table's (a verify's orphan some other writer left in a sink) has no row:
            // its vector is deleted, rather than the batch failing on the cast.
            let rows = try await configuration.source.currentRows(keys.filter(key.couldBeKey), key: key, connection: transaction, logger: logger)
            var outcome = BatchOutcome()
            var records: [String: VectorRecord] = [:]
            for (key, row) in rows {
                records[key] = VectorRecord(id: key, vector: [], payload: row.payload, contentHash: contentHash(of: row))
            }
            var stale: [Int: [String]] = [:]
            var needed = Set<String>()
            for (index, sink) in sinks.enumerated() {
                let stored = try await sink.contentHashes(of: Array(records.keys))
                let changed = records.values.filter { stored[$0.id] != $0.contentHash }.map(\.id)
                stale[index] = changed
                needed.formUnion(changed)
            }
            outcome.unchanged = records.count - needed.count
            metrics.rowsUnchanged.increment(by: outcome.unchanged)
            var rejected: [String: String] = [:]
            var pending = needed.sorted()
            while !pending.isEmpty {
                let texts = pending.map { rows[$0]!.text }
                do {
                    let start = ContinuousClock.now
                    let vectors = try await embedder.embed(texts)
                    metrics.embedLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                    guard vectors.count == pending.count, vectors.allSatisfy({ $0.count == embedder.dimension }) else {
                        throw EmuError.embedderMismatch(expected: pending.count, dimension: embedder.dimension, got: vectors.map(\.count))
                    }
                    for (key, vector) in zip(pending, vectors) { records[key]!.vector = vector }
                    pending = []
                } catch EmbeddingError.rejected(let index, let reason) where pending.indices.contains(index) {
                    rejected[pending[index]] = "the embedder rejected the row's text: \(reason)"
                    pending.remove(at: index)
                }
            }
            metrics.rowsEmbedded.increment(by: needed.count - rejected.count)
            let deleted = keys.filter { rows[$0] == nil }
            let start = ContinuousClock.now
            for (index, sink) in sinks.enumerated() {
                let changed = stale[index, default: []].filter { rejected[$0] == nil }.compactMap { records[$0] }
                try await sink.upsert(changed)
                try await sink.delete(ids: deleted)
            }
            metrics.upsertLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            outcome.upserted = needed.count - rejected.count
            outcome.deleted = deleted.count
            return (outcome, rejected)
        }
    }

    func contentHash(of row: SourceRow) -> String {
        VectorRecord.contentHash(model: embedder.model, dimension: embedder.dimension, text: row.text, payload: row.payload)
    }

    private func retryDelay(attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 20)
        return min(configuration.retryDelay * factor, configuration.maxRetryDelay)
    }
}

/// When Emu last reached its queue, for the health check.
public actor EmuStatus {
    private var lastContact: ContinuousClock.Instant?
    private var lastError: String?

    func reachedQueue() {
        lastContact = .now
        lastError = nil
    }

    func failed(_ error: String) { lastError = error }

    /// Why the process is unhealthy: the queue (and with it the database) has not answered for `patience`.
    public func problem(patience: Duration = .seconds(60)) -> String? {
        guard let lastContact else { return "the queue has not answered yet" + (lastError.map { ": \($0)" } ?? "") }
        guard ContinuousClock.now - lastContact <= patience else {
            return "the queue has not answered for \(ContinuousClock.now - lastContact)" + (lastError.map { ": \($0)" } ?? "")
        }
        return nil
    }
}

enum EmuError: Error, CustomStringConvertible {
    case foreignTable(String, expected: String)
    case embedderMismatch(expected: Int, dimension: Int, got: [Int])

    var description: String {
        switch self {
        case .foreignTable(let table, let expected): "the message is for the table \(table); this Emu serves \(expected)"
        case .embedderMismatch(let expected, let dimension, let got):
            "the embedder returned \(got.count) vectors of dimensions \(Set(got).sorted()) for \(expected) texts of dimension \(dimension)"
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
