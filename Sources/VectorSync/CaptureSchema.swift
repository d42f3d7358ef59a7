import Logging
import PostgresNIO

/// The pipeline's own objects in the source database, in the schema `vectorsync` (never in the user's table):
/// the outbox the capture trigger appends to in the changing transaction, and the state table with the backfill
/// checkpoint. Installing is idempotent.
enum CaptureSchema {
    static let schema = "vectorsync"

    /// Serialises installs of concurrent processes (DDL of `IF NOT EXISTS` races otherwise) until the transaction ends.
    static func lockInstallation(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery("SELECT pg_advisory_xact_lock(hashtextextended('vectorsync:install', 0))", logger: logger)
    }

    /// An application's write locks the source table, then (in the trigger) the outbox. The install must take them in
    /// that order too: `CREATE INDEX IF NOT EXISTS` share-locks the outbox and `CREATE TRIGGER` the source, so an
    /// install that met the outbox first deadlocked with a write that came in between.
    private static func lockSourceBeforeOutbox(_ source: SourceTable, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery("LOCK TABLE \(unescaped: source.name.quoted) IN SHARE ROW EXCLUSIVE MODE", logger: logger)
    }

    /// The NOTIFY channel that wakes the pipeline's Pelican; notifications carry no payload.
    static func channel(pipeline: String) -> String { "vectorsync_\(pipeline)" }

    /// The trigger's quoted name; pipeline names are checked identifiers of at most 40 bytes, so this is one too.
    static func triggerName(pipeline: SQLIdentifier) -> String { "\"vectorsync_\(pipeline.name)\"" }

    /// Installs the outbox, the state table and the trigger on the source table; returns the key with its types.
    static func install(pipeline: SQLIdentifier, source: SourceTable, connection: PostgresConnection, logger: Logger) async throws -> SourceKey {
        try await connection.withGuardedTransaction(logger: logger) { connection in
            try await lockInstallation(connection, logger: logger)
            let keyType = try await source.describe(connection, logger: logger)
            try await lockSourceBeforeOutbox(source, connection, logger: logger)
            try await connection.guardedQuery("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: schema).outbox (
                    seq bigserial PRIMARY KEY,
                    pipeline text NOT NULL,
                    table_name text NOT NULL,
                    pk text NOT NULL,
                    op text NOT NULL,
                    captured_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """, logger: logger)
            try await connection.guardedQuery(
                "CREATE INDEX IF NOT EXISTS outbox_pipeline_seq ON \(unescaped: schema).outbox (pipeline, seq)", logger: logger)
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: schema).pipelines (
                    pipeline text PRIMARY KEY,
                    table_name text NOT NULL,
                    backfill_after text,
                    backfill_done boolean NOT NULL DEFAULT false,
                    backfilled_rows bigint NOT NULL DEFAULT 0,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """, logger: logger)
            // The key's text exactly as `SourceKey.text(of:)` makes it: jsonb prints arrays canonically.
            try await connection.guardedQuery(
                """
                CREATE OR REPLACE FUNCTION \(unescaped: schema).row_key(r jsonb, key_columns text[]) RETURNS text
                LANGUAGE sql IMMUTABLE AS $row_key$
                    SELECT CASE WHEN cardinality(key_columns) = 1 THEN r ->> key_columns[1]
                           ELSE (SELECT jsonb_agg(r ->> k.column_name ORDER BY k.position)
                                 FROM unnest(key_columns) WITH ORDINALITY AS k (column_name, position))::text END
                $row_key$
                """, logger: logger)
            // TG_ARGV: the pipeline, then the key columns. A key change is a delete of the old key and an insert of the new.
            try await connection.guardedQuery(
                """
                CREATE OR REPLACE FUNCTION \(unescaped: schema).capture() RETURNS trigger LANGUAGE plpgsql AS $capture$
                DECLARE
                    new_key text;
                    old_key text;
                BEGIN
                    IF TG_OP <> 'INSERT' THEN old_key := \(unescaped: schema).row_key(to_jsonb(OLD), TG_ARGV[1:TG_NARGS - 1]); END IF;
                    IF TG_OP <> 'DELETE' THEN new_key := \(unescaped: schema).row_key(to_jsonb(NEW), TG_ARGV[1:TG_NARGS - 1]); END IF;
                    IF old_key IS NOT NULL AND old_key IS DISTINCT FROM new_key THEN
                        INSERT INTO \(unescaped: schema).outbox (pipeline, table_name, pk, op)
                        VALUES (TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, old_key, 'delete');
                    END IF;
                    IF new_key IS NOT NULL THEN
                        INSERT INTO \(unescaped: schema).outbox (pipeline, table_name, pk, op)
                        VALUES (TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, new_key,
                                CASE WHEN old_key IS NULL THEN 'insert' ELSE 'update' END);
                    END IF;
                    PERFORM pg_notify('vectorsync_' || TG_ARGV[0], '');
                    RETURN NULL;
                END
                $capture$
                """, logger: logger)
            try await connection.guardedQuery(
                """
                CREATE OR REPLACE TRIGGER \(unescaped: triggerName(pipeline: pipeline))
                AFTER INSERT OR UPDATE OR DELETE ON \(unescaped: source.name.quoted)
                FOR EACH ROW EXECUTE FUNCTION \(unescaped: schema).capture(\(unescaped: ([pipeline] + source.primaryKey).map { SQLLiteral.string($0.name) }.joined(separator: ", ")))
                """, logger: logger)
            try await connection.guardedQuery(
                """
                INSERT INTO \(unescaped: schema).pipelines (pipeline, table_name) VALUES (\(pipeline.name), \(source.name.description))
                ON CONFLICT (pipeline) DO NOTHING
                """, logger: logger)
            return keyType
        }
    }
}
