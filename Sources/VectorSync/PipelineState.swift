import Logging
import PostgresNIO

/// What a pipeline's own state in the source database says: whether capture is installed, how far the backfill is,
/// what waits in the outbox and the postgres queue, and the dead letters. Read by the operator for the status.
public struct PipelineStateReport: Sendable, Hashable {
    /// The pipeline's trigger is on the table.
    public var captureInstalled = false
    public var backfilledRows: Int64 = 0
    public var backfillDone = false
    /// The planner's estimate of the table's rows (exact counts would scan a large table on every look).
    public var tableRows: Int64 = 0
    /// Changes captured and not yet moved to the queue.
    public var outboxRows: Int64 = 0
    /// Messages in the postgres queue's jobs table (0 for an SQS queue, whose count comes from SQS).
    public var queuedMessages: Int64 = 0
    /// Seconds the oldest captured change or queued message has waited.
    public var oldestWaitingSeconds: Double?
    public var deadLetters: Int64 = 0
    public var lastDeadLetterError: String?
    /// The last verify of each sink, as Emu recorded it (see `DriftVerifier`).
    public var verifications: [SinkVerifyReport] = []
    /// Each sink's own backfill and comparison, as Emu recorded them (see `SinkBackfiller`).
    public var sinkBackfills: [SinkBackfillReport] = []

    public init() {}
}

/// The pipeline's state in the schema `vectorsync` of the source database, read and removed by its name there.
public enum PipelineState {
    public static func read(pipeline: String, table: String, connection: PostgresConnection, logger: Logger) async throws -> PipelineStateReport {
        var report = PipelineStateReport()
        let name = try QualifiedTableName(table, field: "spec.source.table")
        let installed = try await connection.guardedQuery(
            "SELECT to_regclass('\(unescaped: CaptureSchema.schema).pipelines') IS NOT NULL, to_regclass('\(unescaped: CaptureSchema.schema).jobs') IS NOT NULL",
            logger: logger)
        var hasState = false
        var hasQueue = false
        for try await (state, queue) in installed.decode((Bool, Bool).self) {
            hasState = state
            hasQueue = queue
        }
        // The trigger's name unquoted, as `CaptureSchema.triggerName` quotes it.
        let trigger = "vectorsync_" + (try SQLIdentifier(pipeline, field: "pipeline")).name
        let triggers = try await connection.guardedQuery(
            """
            SELECT count(*) FROM pg_trigger
            WHERE tgname = \(trigger) AND tgrelid = to_regclass(\(name.quoted))
            """, logger: logger)
        for try await count in triggers.decode(Int64.self) { report.captureInstalled = count > 0 }
        let estimate = try await connection.guardedQuery(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(\(name.quoted))", logger: logger)
        for try await rows in estimate.decode(Int64.self) { report.tableRows = rows }
        var oldest: [Double] = []
        if hasState {
            let state = try await connection.guardedQuery(
                """
                SELECT backfilled_rows, backfill_done,
                       (SELECT count(*) FROM \(unescaped: CaptureSchema.schema).outbox WHERE pipeline = \(pipeline)),
                       (SELECT extract(epoch FROM clock_timestamp() - min(captured_at))::float8
                        FROM \(unescaped: CaptureSchema.schema).outbox WHERE pipeline = \(pipeline))
                FROM \(unescaped: CaptureSchema.schema).pipelines WHERE pipeline = \(pipeline)
                """, logger: logger)
            for try await (done, finished, outbox, age) in state.decode((Int64, Bool, Int64, Double?).self) {
                report.backfilledRows = done
                report.backfillDone = finished
                report.outboxRows = outbox
                if let age { oldest.append(age) }
            }
        }
        if hasQueue {
            let queue = try await connection.guardedQuery(
                """
                SELECT (SELECT count(*) FROM \(unescaped: CaptureSchema.schema).jobs WHERE queue = \(pipeline)),
                       (SELECT extract(epoch FROM clock_timestamp() - min(enqueued_at))::float8
                        FROM \(unescaped: CaptureSchema.schema).jobs WHERE queue = \(pipeline)),
                       (SELECT count(*) FROM \(unescaped: CaptureSchema.schema).dead_letters WHERE queue = \(pipeline)),
                       (SELECT last_error FROM \(unescaped: CaptureSchema.schema).dead_letters WHERE queue = \(pipeline)
                        ORDER BY dead_at DESC, id DESC LIMIT 1)
                """, logger: logger)
            for try await (jobs, age, dead, error) in queue.decode((Int64, Double?, Int64, String?).self) {
                report.queuedMessages = jobs
                if let age { oldest.append(age) }
                report.deadLetters = dead
                report.lastDeadLetterError = error
            }
        }
        report.oldestWaitingSeconds = oldest.max()
        report.verifications = try await VerifyRecords.read(pipeline: pipeline, connection: connection, logger: logger)
        report.sinkBackfills = try await SinkBackfillRecords.read(pipeline: pipeline, connection: connection, logger: logger)
        return report
    }

    /// Drops the pipeline's trigger and deletes its rows of the `vectorsync` tables (state, outbox, jobs, dead
    /// letters, verifications, sink backfills), in one transaction. The user's table and other pipelines' state are left alone; the shared schema
    /// and functions stay for them.
    public static func remove(pipeline: String, table: String, connection: PostgresConnection, logger: Logger) async throws {
        let name = try QualifiedTableName(table, field: "spec.source.table")
        let identifier = try SQLIdentifier(pipeline, field: "pipeline")
        try await connection.withGuardedTransaction(logger: logger) { transaction in
            try await CaptureSchema.lockInstallation(transaction, logger: logger)
            let exists = try await transaction.guardedQuery("SELECT to_regclass(\(name.quoted)) IS NOT NULL", logger: logger)
            var tableExists = false
            for try await value in exists.decode(Bool.self) { tableExists = value }
            if tableExists {
                try await transaction.guardedQuery(
                    "DROP TRIGGER IF EXISTS \(unescaped: CaptureSchema.triggerName(pipeline: identifier)) ON \(unescaped: name.quoted)",
                    logger: logger)
            }
            let tables = try await transaction.guardedQuery(
                """
                SELECT to_regclass('\(unescaped: CaptureSchema.schema).pipelines') IS NOT NULL,
                       to_regclass('\(unescaped: CaptureSchema.schema).jobs') IS NOT NULL
                """, logger: logger)
            var present: (state: Bool, queue: Bool) = (false, false)
            for try await (hasState, hasQueue) in tables.decode((Bool, Bool).self) { present = (hasState, hasQueue) }
            if present.state {
                try await transaction.guardedQuery(
                    "DELETE FROM \(unescaped: CaptureSchema.schema).outbox WHERE pipeline = \(pipeline)", logger: logger)
                try await transaction.guardedQuery(
                    "DELETE FROM \(unescaped: CaptureSchema.schema).pipelines WHERE pipeline = \(pipeline)", logger: logger)
            }
            if present.queue {
                try await transaction.guardedQuery(
                    "DELETE FROM \(unescaped: CaptureSchema.schema).jobs WHERE queue = \(pipeline)", logger: logger)
                try await transaction.guardedQuery(
                    "DELETE FROM \(unescaped: CaptureSchema.schema).dead_letters WHERE queue = \(pipeline)", logger: logger)
            }
            try await VerifyRecords.remove(pipeline: pipeline, connection: transaction, logger: logger)
            try await SinkBackfillRecords.remove(pipeline: pipeline, connection: transaction, logger: logger)
        }
    }
}
