import Logging
import Metrics
import PostgresNIO

/// Pelican: captures a table's changes and backfills it onto the queue. Any number may run for a pipeline; the one
/// holding the pipeline's advisory lock (on a connection of its own) is active, the others stand by and take over
/// when that connection ends. Nothing is lost while none is active: the trigger keeps appending to the outbox.
public struct Pelican: Sendable {
    public struct Configuration: Sendable {
        public var pipeline: SQLIdentifier
        public var source: SourceTable
        /// Whether the rows already in the table are queued too.
        public var backfill: Bool
        /// Outbox rows or backfilled rows per transaction.
        public var batchSize: Int
        /// How long the outbox is left alone when no NOTIFY arrives (NOTIFY is only a wake-up).
        public var pollInterval: Duration
        /// How often a standby tries the lock, and the wait before reconnecting after an error.
        public var retryInterval: Duration

        public init(
            pipeline: String, source: SourceTable, backfill: Bool = true, batchSize: Int = 500,
            pollInterval: Duration = .seconds(1), retryInterval: Duration = .seconds(1)
        ) throws(ConfigurationError) {
            let name = try SQLIdentifier(pipeline, field: "pipeline")
            guard name.name.utf8.count <= 40 else {
                throw ConfigurationError(field: "pipeline", problem: "\"\(pipeline)\" is longer than 40 bytes", fix: "use a shorter name")
            }
            guard batchSize >= 1 else {
                throw ConfigurationError(field: "batchSize", problem: "\(batchSize) is not positive", fix: "use 1 or more (500 is a good start)")
            }
            self.pipeline = name
            self.source = source
            self.backfill = backfill
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.retryInterval = retryInterval
        }
    }

    public enum Role: String, Sendable {
        case connecting, standby, active
    }

    public let configuration: Configuration
    public let status = PelicanStatus()
    private let database: PostgresEndpoint
    private let queue: any ChangeQueue
    private let logger: Logger
    private let metrics = PipelineMetrics()

    public init(configuration: Configuration, database: PostgresEndpoint, queue: any ChangeQueue, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.queue = queue
        self.logger = logger
    }

    /// Runs until cancelled: stands by, becomes active, and goes back to standing by when the database goes away.
    public func run() async throws {
        while !Task.isCancelled {
            do {
                try await database.withConnection(logger: logger) { leader in
                    try await leadOrStandBy(leader)
                }
            } catch is CancellationError {
                break
            } catch {
                if Task.isCancelled { break }
                logger.warning("pelican lost its connection or failed; retrying", metadata: ["error": "\(describe(error))"])
            }
            await status.set(.connecting)
            try? await Task.sleep(for: configuration.retryInterval)
        }
        await status.set(.connecting)
    }

    private func leadOrStandBy(_ leader: PostgresConnection) async throws {
        while true {
            try Task.checkCancellation()
            let rows = try await leader.guardedQuery(
                "SELECT pg_try_advisory_lock(hashtextextended(\("vectorsync:pelican:" + configuration.pipeline.name), 0))",
                logger: logger)
            var acquired = false
            for try await value in rows.decode(Bool.self) { acquired = value }
            if acquired { break }
            await status.set(.standby)
            try await Task.sleep(for: configuration.retryInterval)
        }
        logger.info("pelican is active", metadata: ["pipeline": "\(configuration.pipeline)"])
        let key = try await CaptureSchema.install(
            pipeline: configuration.pipeline, source: configuration.source, connection: leader, logger: logger)
        await status.set(.active)
        let wakeUp = WakeUpSignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await listen(leader, wakeUp: wakeUp) }
            group.addTask { try await keepAlive(leader) }
            group.addTask { try await database.withConnection(logger: logger) { try await drainForever($0, wakeUp: wakeUp) } }
            if configuration.backfill {
                group.addTask { try await database.withConnection(logger: logger) { try await backfill($0, key: key) } }
            }
            // Backfill ends on its own; anything else ending means the leadership is gone.
            while try await group.next() != nil {
                if group.isEmpty { break }
            }
            group.cancelAll()
        }
    }

    private func listen(_ leader: PostgresConnection, wakeUp: WakeUpSignal) async throws {
        try await leader.listen(on: CaptureSchema.channel(pipeline: configuration.pipeline.name)) { notifications in
            // Changes made before LISTEN took effect are in the outbox: drain once now.
            await wakeUp.signal()
            for try await _ in notifications { await wakeUp.signal() }
        }
        throw PelicanError.listenerEnded
    }

    /// The lock lives as long as the leader's connection; a failed ping means another Pelican may already lead.
    private func keepAlive(_ leader: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: configuration.retryInterval)
            try await leader.guardedQuery("SELECT 1", logger: logger)
        }
    }

    private func drainForever(_ connection: PostgresConnection, wakeUp: WakeUpSignal) async throws {
        while true {
            let drained = try await drainOutbox(connection)
            if drained < configuration.batchSize { await wakeUp.wait(timeout: configuration.pollInterval) }
            try Task.checkCancellation()
        }
    }

    /// Moves one batch of outbox rows onto the queue and deletes them, in one transaction of the source database.
    /// Several changes of one row in the batch become one message: Emu reads the row as it is now anyway.
    func drainOutbox(_ connection: PostgresConnection) async throws -> Int {
        try await connection.withGuardedTransaction(logger: logger) { transaction in
            let rows = try await transaction.guardedQuery(
                """
                SELECT seq, table_name, pk, op FROM \(unescaped: CaptureSchema.schema).outbox
                WHERE pipeline = \(configuration.pipeline.name)
                ORDER BY seq LIMIT \(configuration.batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var sequenceNumbers: [Int64] = []
            var latest: [String: ChangeMessage] = [:]
            for try await (seq, table, pk, op) in rows.decode((Int64, String, String, String).self) {
                sequenceNumbers.append(seq)
                latest[pk] = ChangeMessage(table: table, pk: pk, op: ChangeMessage.Operation(rawValue: op) ?? .update, seq: seq)
            }
            guard !sequenceNumbers.isEmpty else { return 0 }
            let messages = latest.values.sorted { $0.seq < $1.seq }
            try await queue.send(messages, within: transaction)
            try await transaction.guardedQuery(
                "DELETE FROM \(unescaped: CaptureSchema.schema).outbox WHERE seq = ANY(\(sequenceNumbers))", logger: logger)
            metrics.changesCaptured.increment(by: sequenceNumbers.count)
            metrics.messagesQueued.increment(by: messages.count)
            return sequenceNumbers.count
        }
    }

    /// Walks the table in primary-key order from the checkpoint, queueing each row, until the end; the checkpoint
    /// moves in the transaction that queued the rows, so a restarted backfill continues where this one stopped.
    private func backfill(_ connection: PostgresConnection, key: SourceKey) async throws {
        while try await backfillBatch(connection, key: key) {}
        logger.info("backfill complete", metadata: ["pipeline": "\(configuration.pipeline)"])
    }

    /// Returns whether rows remain.
    func backfillBatch(_ connection: PostgresConnection, key: SourceKey) async throws -> Bool {
        let source = configuration.source
        return try await connection.withGuardedTransaction(logger: logger) { transaction in
            let state = try await transaction.guardedQuery(
                """
                SELECT backfill_after, backfill_done FROM \(unescaped: CaptureSchema.schema).pipelines
                WHERE pipeline = \(configuration.pipeline.name) FOR UPDATE
                """, logger: logger)
            var after: String?
            var done = false
            for try await (cursor, finished) in state.decode((String?, Bool).self) {
                after = cursor
                done = finished
            }
            if done { return false }
            let rows = try await transaction.guardedQuery(
                """
                SELECT \(unescaped: key.text(of: "source")), nextval(pg_get_serial_sequence('\(unescaped: CaptureSchema.schema).outbox', 'seq'))
                FROM (SELECT \(unescaped: key.ordering(of: "candidate")) FROM \(unescaped: source.name.quoted) AS candidate,
                            (SELECT \(after)::text AS after) AS checkpoint
                      WHERE checkpoint.after IS NULL OR \(unescaped: key.row(of: "candidate")) > \(unescaped: key.row(parsing: "checkpoint.after"))
                      ORDER BY \(unescaped: key.ordering(of: "candidate")) LIMIT \(configuration.batchSize)) AS source
                ORDER BY \(unescaped: key.ordering(of: "source"))
                """, logger: logger)
            var messages: [ChangeMessage] = []
            for try await (keyText, seq) in rows.decode((String, Int64).self) {
                messages.append(ChangeMessage(table: source.name.description, pk: keyText, op: .backfill, seq: seq))
            }
            guard let last = messages.last else {
                try await transaction.guardedQuery(
                    """
                    UPDATE \(unescaped: CaptureSchema.schema).pipelines SET backfill_done = true, updated_at = clock_timestamp()
                    WHERE pipeline = \(configuration.pipeline.name)
                    """, logger: logger)
                return false
            }
            try await queue.send(messages, within: transaction)
            try await transaction.guardedQuery(
                """
                UPDATE \(unescaped: CaptureSchema.schema).pipelines
                SET backfill_after = \(last.pk), backfilled_rows = backfilled_rows + \(messages.count), updated_at = clock_timestamp()
                WHERE pipeline = \(configuration.pipeline.name)
                """, logger: logger)
            metrics.rowsBackfilled.increment(by: messages.count)
            metrics.messagesQueued.increment(by: messages.count)
            return true
        }
    }
}

/// What a Pelican is doing, for health checks and tests.
public actor PelicanStatus {
    public private(set) var role: Pelican.Role = .connecting

    func set(_ role: Pelican.Role) { self.role = role }

    /// Why the process is unhealthy: its connection to the database, which holds the lock and the LISTEN, is gone.
    public var problem: String? {
        role == .connecting ? "not connected to the source database (the lock and LISTEN connection is down)" : nil
    }
}

enum PelicanError: Error, CustomStringConvertible {
    case listenerEnded

    var description: String {
        switch self {
        case .listenerEnded: "the LISTEN connection ended: the database went away or closed the connection"
        }
    }
}
