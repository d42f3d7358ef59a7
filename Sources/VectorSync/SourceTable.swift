import Logging
import PostgresNIO

/// The user's table a pipeline follows: a single-column primary key, the text template, and the payload columns.
public struct SourceTable: Sendable, Hashable {
    public let name: QualifiedTableName
    public let primaryKey: SQLIdentifier
    public let template: TextTemplate
    public let payloadColumns: [SQLIdentifier]

    public init(table: String, primaryKey: String, textTemplate: String, payloadColumns: [String] = []) throws(ConfigurationError) {
        self.name = try QualifiedTableName(table, field: "source.table")
        self.primaryKey = try SQLIdentifier(primaryKey, field: "source.primaryKey")
        self.template = try TextTemplate(textTemplate, field: "source.textTemplate")
        var columns: [SQLIdentifier] = []
        for (index, column) in payloadColumns.enumerated() {
            columns.append(try SQLIdentifier(column, field: "source.payloadColumns[\(index)]"))
        }
        self.payloadColumns = columns
    }

    /// What `to_jsonb(row) ->> primaryKey` gives: the text form of a key in messages and vector ids.
    var keyText: String { "to_jsonb(source) ->> \(SQLLiteral.string(primaryKey.name))" }

    /// Checks against the database that the table exists with this single-column primary key and every column the
    /// template and payload name, and returns the key's SQL type (`bigint`, `uuid`, `text`, ...).
    func describe(_ connection: PostgresConnection, logger: Logger) async throws -> String {
        let regclass = SQLLiteral.string(name.quoted)
        let existence = try await connection.guardedQuery("SELECT to_regclass(\(unescaped: regclass)) IS NOT NULL", logger: logger)
        for try await exists in existence.decode(Bool.self) where !exists {
            throw ConfigurationError(field: "source.table", problem: "the table \(name) does not exist", fix: "create it or name an existing table")
        }
        let keyRows = try await connection.guardedQuery(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = \(unescaped: regclass)::regclass AND i.indisprimary
            """, logger: logger)
        var keys: [(String, String)] = []
        for try await (column, type) in keyRows.decode((String, String).self) { keys.append((column, type)) }
        guard keys.count == 1, keys[0].0 == primaryKey.name else {
            let actual = keys.isEmpty ? "no primary key" : "the primary key (\(keys.map(\.0).joined(separator: ", ")))"
            throw ConfigurationError(
                field: "source.primaryKey", problem: "\(name) has \(actual), not the single column \(primaryKey.name)",
                fix: "name the table's single primary-key column, or give the table one")
        }
        let columnRows = try await connection.guardedQuery(
            "SELECT attname FROM pg_attribute WHERE attrelid = \(unescaped: regclass)::regclass AND attnum > 0 AND NOT attisdropped",
            logger: logger)
        var columns = Set<String>()
        for try await column in columnRows.decode(String.self) { columns.insert(column) }
        for column in template.columns where !columns.contains(column) {
            throw ConfigurationError(
                field: "source.textTemplate", problem: "{\(column)} is not a column of \(name)",
                fix: "use one of \(columns.sorted().joined(separator: ", "))")
        }
        for (index, column) in payloadColumns.enumerated() where !columns.contains(column.name) {
            throw ConfigurationError(
                field: "source.payloadColumns[\(index)]", problem: "\(column.name) is not a column of \(name)",
                fix: "use one of \(columns.sorted().joined(separator: ", "))")
        }
        return keys[0].1
    }

    /// The current rows for these keys, keyed by the key's text form; a key without a row has been deleted.
    func currentRows(_ keys: [String], keyType: String, connection: PostgresConnection, logger: Logger) async throws -> [String: SourceRow] {
        let columns = try await currentColumns(keys, keyType: keyType, connection: connection, logger: logger)
        return Dictionary(uniqueKeysWithValues: columns.map { key, columns in (key, row(key: key, columns: columns)) })
    }

    /// Every column of the current rows for these keys, keyed by the key's text form.
    func currentColumns(_ keys: [String], keyType: String, connection: PostgresConnection, logger: Logger) async throws
        -> [String: [String: JSONValue]]
    {
        let rows = try await connection.guardedQuery(
            """
            SELECT \(unescaped: keyText), to_jsonb(source)::text FROM \(unescaped: name.quoted) AS source
            WHERE \(unescaped: primaryKey.quoted) = ANY(\(keys)::text[]::\(unescaped: keyType)[])
            """, logger: logger)
        var found: [String: [String: JSONValue]] = [:]
        for try await (key, json) in rows.decode((String, String).self) {
            if case .object(let columns) = try JSONValue.parse(json) { found[key] = columns }
        }
        return found
    }

    func row(key: String, columns: [String: JSONValue]) -> SourceRow {
        var payload: [String: JSONValue] = [:]
        for column in payloadColumns { payload[column.name] = columns[column.name] ?? .null }
        payload["_pk"] = .string(key)
        return SourceRow(key: key, text: template.render(columns), payload: payload)
    }
}

/// A row as the sinks see it: its key, the text to embed, and the payload.
public struct SourceRow: Sendable, Hashable {
    public var key: String
    public var text: String
    /// The payload columns, plus `_pk`: the key as text, which joins a vector back to its row.
    public var payload: [String: JSONValue]
}

enum SQLLiteral {
    /// A single-quoted SQL string literal.
    static func string(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
