import Foundation
import Logging
import PostgresNIO

/// The last verify of each sink of a pipeline, as Emu recorded it.
public struct SinkVerifyReport: Sendable, Hashable {
    /// The sink's name in Emu: a pgvector sink's table as configured, `qdrant:<collection>` for Qdrant.
    public var sink: String
    /// When the verify finished, by the source database's clock.
    public var verifiedAt: Date
    public var counts: DriftCounts
    /// Messages queued to repair the sink: one per missing, stale or orphaned vector.
    public var requeued: Int64

    public init(sink: String, verifiedAt: Date, counts: DriftCounts, requeued: Int64) {
        self.sink = sink
        self.verifiedAt = verifiedAt
        self.counts = counts
        self.requeued = requeued
    }
}

/// `vectorsync.verifications`: one row per pipeline and sink, the last verify's figures. Installed the way the
/// capture schema is, idempotently under the installation lock.
enum VerifyRecords {
    static let records = PipelineRecordTable(
        "verifications",
        columns: """
            verified_at timestamptz NOT NULL,
                source_rows bigint NOT NULL,
                sink_rows bigint NOT NULL,
                missing bigint NOT NULL,
                stale bigint NOT NULL,
                orphaned bigint NOT NULL,
                requeued bigint NOT NULL
            """)
    static var table: String { records.name }

    static func install(_ connection: PostgresConnection, logger: Logger) async throws {
        try await records.install(connection, logger: logger)
    }

    /// Records a sink's verify and returns when, by the database's clock.
    static func record(pipeline: String, _ report: SinkVerifyReport, connection: PostgresConnection, logger: Logger) async throws -> Date {
        let counts = report.counts
        let rows = try await connection.guardedQuery(
            """
            INSERT INTO \(unescaped: table) (pipeline, sink, verified_at, source_rows, sink_rows, missing, stale, orphaned, requeued)
            VALUES (\(pipeline), \(report.sink), clock_timestamp(), \(counts.sourceRows), \(counts.sinkRows), \(counts.missing),
                    \(counts.stale), \(counts.orphaned), \(report.requeued))
            ON CONFLICT (pipeline, sink) DO UPDATE SET verified_at = EXCLUDED.verified_at, source_rows = EXCLUDED.source_rows,
                sink_rows = EXCLUDED.sink_rows, missing = EXCLUDED.missing, stale = EXCLUDED.stale, orphaned = EXCLUDED.orphaned,
                requeued = EXCLUDED.requeued
            RETURNING verified_at
            """, logger: logger)
        for try await time in rows.decode(Date.self) { return time }
        return Date()
    }

    /// The last verify of each sink of the pipeline; none before the table exists.
    static func read(pipeline: String, connection: PostgresConnection, logger: Logger) async throws -> [SinkVerifyReport] {
        guard try await records.exists(connection, logger: logger) else { return [] }
        let rows = try await connection.guardedQuery(
            """
            SELECT sink, verified_at, source_rows, sink_rows, missing, stale, orphaned, requeued
            FROM \(unescaped: table) WHERE pipeline = \(pipeline) ORDER BY sink
            """, logger: logger)
        var reports: [SinkVerifyReport] = []
        for try await (sink, at, sourceRows, sinkRows, missing, stale, orphaned, requeued) in rows.decode(
            (String, Date, Int64, Int64, Int64, Int64, Int64, Int64).self)
        {
            let counts = DriftCounts(sourceRows: sourceRows, sinkRows: sinkRows, missing: missing, stale: stale, orphaned: orphaned)
            reports.append(SinkVerifyReport(sink: sink, verifiedAt: at, counts: counts, requeued: requeued))
        }
        return reports
    }

    /// Whether every one of `sinks` was verified less than `interval` ago.
    static func allRecent(pipeline: String, sinks: [String], interval: Duration, connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let rows = try await connection.guardedQuery(
            """
            SELECT count(*) FROM \(unescaped: table)
            WHERE pipeline = \(pipeline) AND sink = ANY(\(sinks)) AND verified_at > clock_timestamp() - make_interval(secs => \(seconds))
            """, logger: logger)
        var recent: Int64 = 0
        for try await count in rows.decode(Int64.self) { recent = count }
        return recent == Int64(sinks.count)
    }

    static func remove(pipeline: String, connection: PostgresConnection, logger: Logger) async throws {
        try await records.remove(pipeline: pipeline, connection: connection, logger: logger)
    }
}
