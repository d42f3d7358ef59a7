import Foundation
import Logging
import PostgresNIO

/// Where one sink of a pipeline stands: fed from the start, backfilling on its own, or done, and how it compares
/// with another sink of the pipeline.
public struct SinkBackfillReport: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// A sink of the pipeline from its start: the pipeline's own backfill and queue fed it.
        case covered
        /// Added to a running pipeline: its own backfill walks the table and queues what it lacks.
        case pending
        /// Its own backfill has walked the whole table.
        case done
        /// Added while the pipeline does not backfill (`spec.source.backfill: false`): only later changes reach it.
        case skipped
    }

    /// The sink's name in Emu: a pgvector sink's table as configured, `qdrant:<collection>` for Qdrant.
    public var sink: String
    public var state: State
    /// Source rows the sink's own backfill has looked at, and how many of them it queued (missing or stale in it).
    public var rowsDone: Int64
    public var rowsQueued: Int64
    public var completedAt: Date?
    public var comparison: SinkComparisonReport?

    public init(
        sink: String, state: State, rowsDone: Int64 = 0, rowsQueued: Int64 = 0, completedAt: Date? = nil, comparison: SinkComparisonReport? = nil
    ) {
        self.sink = sink
        self.state = state
        self.rowsDone = rowsDone
        self.rowsQueued = rowsQueued
        self.completedAt = completedAt
        self.comparison = comparison
    }
}

/// Top-k agreement of a sink with another one: for sampled rows, the share of the other sink's 10 nearest
/// neighbours (the row's own text as the query) that this sink also returns.
public struct SinkComparisonReport: Sendable, Hashable {
    /// The sink compared against.
    public var reference: String
    public var recallAt10: Double
    public var samples: Int
    public var comparedAt: Date

    public init(reference: String, recallAt10: Double, samples: Int, comparedAt: Date) {
        self.reference = reference
        self.recallAt10 = recallAt10
        self.samples = samples
        self.comparedAt = comparedAt
    }
}

/// `vectorsync.sink_backfills`: one row per pipeline and sink, the sink's own backfill and its last comparison.
/// Installed the way the capture schema is, idempotently under the installation lock.
enum SinkBackfillRecords {
    static let records = PipelineRecordTable(
        "sink_backfills",
        columns: """
            state text NOT NULL,
                checkpoint text,
                rows_done bigint NOT NULL DEFAULT 0,
                rows_queued bigint NOT NULL DEFAULT 0,
                registered_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                completed_at timestamptz,
                compared_with text,
                recall_at_10 float8,
                compared_samples integer,
                compared_at timestamptz
            """)
    static var table: String { records.name }

    static func install(_ connection: PostgresConnection, logger: Logger) async throws {
        try await records.install(connection, logger: logger)
    }

    /// Records the sinks Emu writes now. The first sinks a pipeline ever has are `covered`; a sink added later is
    /// `pending` (or `skipped` without backfills); a sink no longer written is forgotten, so that one added again
    /// backfills again (it missed the changes in between). Returns every sink's state.
    static func register(
        pipeline: String, sinks: [String], backfills: Bool, connection: PostgresConnection, logger: Logger
    ) async throws -> [String: SinkBackfillReport.State] {
        try await connection.withGuardedTransaction(logger: logger) { transaction in
            try await transaction.guardedQuery(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("vectorsync:sinks:" + pipeline), 0))", logger: logger)
            var known: [String: SinkBackfillReport.State] = [:]
            let rows = try await transaction.guardedQuery("SELECT sink, state FROM \(unescaped: table) WHERE pipeline = \(pipeline)", logger: logger)
            for try await (sink, state) in rows.decode((String, String).self) { known[sink] = SinkBackfillReport.State(rawValue: state) ?? .pending }
            try await transaction.guardedQuery(
                "DELETE FROM \(unescaped: table) WHERE pipeline = \(pipeline) AND NOT (sink = ANY(\(sinks)))", logger: logger)
            let added: SinkBackfillReport.State = known.isEmpty ? .covered : backfills ? .pending : .skipped
            var states: [String: SinkBackfillReport.State] = [:]
            for sink in sinks {
                if let state = known[sink] {
                    states[sink] = state
                    continue
                }
                try await transaction.guardedQuery(
                    """
                    INSERT INTO \(unescaped: table) (pipeline, sink, state, completed_at)
                    VALUES (\(pipeline), \(sink), \(added.rawValue), CASE WHEN \(added != .pending) THEN clock_timestamp() END)
                    ON CONFLICT (pipeline, sink) DO NOTHING
                    """, logger: logger)
                states[sink] = added
            }
            return states
        }
    }

    /// The sink's checkpoint while its backfill is pending, locked for this transaction; nil when it is not
    /// pending or another Emu is stepping it now. The outer optional is the row; the inner one the checkpoint.
    static func lockPending(pipeline: String, sink: String, transaction: PostgresConnection, logger: Logger) async throws -> String?? {
        let rows = try await transaction.guardedQuery(
            """
            SELECT checkpoint FROM \(unescaped: table) WHERE pipeline = \(pipeline) AND sink = \(sink) AND state = 'pending'
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        for try await checkpoint in rows.decode(String?.self) { return .some(checkpoint) }
        return nil
    }

    static func advance(
        pipeline: String, sink: String, checkpoint: String?, rows: Int, queued: Int, finished: Bool, transaction: PostgresConnection, logger: Logger
    ) async throws {
        try await transaction.guardedQuery(
            """
            UPDATE \(unescaped: table) SET checkpoint = coalesce(\(checkpoint), checkpoint), rows_done = rows_done + \(rows),
                rows_queued = rows_queued + \(queued), state = CASE WHEN \(finished) THEN 'done' ELSE state END,
                completed_at = CASE WHEN \(finished) THEN clock_timestamp() ELSE completed_at END
            WHERE pipeline = \(pipeline) AND sink = \(sink)
            """, logger: logger)
    }

    static func recordComparison(
        pipeline: String, sink: String, _ comparison: SinkComparisonReport, connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        try await connection.guardedQuery(
            """
            UPDATE \(unescaped: table) SET compared_with = \(comparison.reference), recall_at_10 = \(comparison.recallAt10),
                compared_samples = \(comparison.samples), compared_at = clock_timestamp()
            WHERE pipeline = \(pipeline) AND sink = \(sink)
            """, logger: logger)
    }

    /// Every sink's record; none before the table exists.
    static func read(pipeline: String, connection: PostgresConnection, logger: Logger) async throws -> [SinkBackfillReport] {
        guard try await records.exists(connection, logger: logger) else { return [] }
        let rows = try await connection.guardedQuery(
            """
            SELECT sink, state, rows_done, rows_queued, completed_at, compared_with, recall_at_10, compared_samples, compared_at
            FROM \(unescaped: table) WHERE pipeline = \(pipeline) ORDER BY sink
            """, logger: logger)
        var reports: [SinkBackfillReport] = []
        for try await (sink, state, done, queued, completed, reference, recall, samples, compared) in rows.decode(
            (String, String, Int64, Int64, Date?, String?, Double?, Int32?, Date?).self)
        {
            var comparison: SinkComparisonReport?
            if let reference, let recall, let samples, let compared {
                comparison = SinkComparisonReport(reference: reference, recallAt10: recall, samples: Int(samples), comparedAt: compared)
            }
            reports.append(
                SinkBackfillReport(
                    sink: sink, state: SinkBackfillReport.State(rawValue: state) ?? .pending, rowsDone: done, rowsQueued: queued,
                    completedAt: completed, comparison: comparison))
        }
        return reports
    }

    static func remove(pipeline: String, connection: PostgresConnection, logger: Logger) async throws {
        try await records.remove(pipeline: pipeline, connection: connection, logger: logger)
    }
}
