import Logging
import PostgresNIO

/// A table of the capture schema that keeps one row per pipeline and sink (`vectorsync.verifications`,
/// `vectorsync.sink_backfills`): made idempotently under the installation lock, read as empty before it exists,
/// cleared of a pipeline's rows when the pipeline goes.
struct PipelineRecordTable: Sendable {
    /// The table's qualified name, `vectorsync.<name>`.
    let name: String
    /// The columns after `pipeline` and `sink`, as in CREATE TABLE.
    let columns: String

    init(_ table: String, columns: String) {
        self.name = "\(CaptureSchema.schema).\(table)"
        self.columns = columns
    }

    func install(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withGuardedTransaction(logger: logger) { transaction in
            try await CaptureSchema.lockInstallation(transaction, logger: logger)
            try await transaction.guardedQuery("CREATE SCHEMA IF NOT EXISTS \(unescaped: CaptureSchema.schema)", logger: logger)
            try await transaction.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: name) (
                    pipeline text NOT NULL,
                    sink text NOT NULL,
                    \(unescaped: columns),
                    PRIMARY KEY (pipeline, sink)
                )
                """, logger: logger)
        }
    }

    func exists(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.guardedQuery("SELECT to_regclass(\(name)) IS NOT NULL", logger: logger)
        var present = false
        for try await value in rows.decode(Bool.self) { present = value }
        return present
    }

    func remove(pipeline: String, connection: PostgresConnection, logger: Logger) async throws {
        guard try await exists(connection, logger: logger) else { return }
        try await connection.guardedQuery("DELETE FROM \(unescaped: name) WHERE pipeline = \(pipeline)", logger: logger)
    }
}
