import Logging
import PostgresNIO

/// The user's table a pipeline follows: its primary key (one column or several), the text template, and the payload
/// columns.
public struct SourceTable: Sendable, Hashable {
    public let name: QualifiedTableName
    /// The primary key's columns in the order that makes the key's text (see `SourceKey`).
    public let primaryKey: [SQLIdentifier]
    public let template: TextTemplate
    public let payloadColumns: [SQLIdentifier]

    public init(table: String, primaryKey: String, textTemplate: String, payloadColumns: [String] = []) throws(ConfigurationError) {
        try self.init(table: table, primaryKey: [primaryKey], textTemplate: textTemplate, payloadColumns: payloadColumns)
    }

    public init(table: String, primaryKey: [String], textTemplate: String, payloadColumns: [String] = []) throws(ConfigurationError) {
        self.name = try QualifiedTableName(table, field: "source.table")
        guard !primaryKey.isEmpty else {
            throw ConfigurationError(field: "source.primaryKey", problem: "no column is named", fix: "name the table's primary-key columns")
        }
        var keyColumns: [SQLIdentifier] = []
        for (index, column) in primaryKey.enumerated() {
            let identifier = try SQLIdentifier(column, field: "source.primaryKey[\(index)]")
            guard !keyColumns.contains(identifier) else {
                throw ConfigurationError(field: "source.primaryKey[\(index)]", problem: "\(column) is named twice", fix: "name each key column once")
            }
            keyColumns.append(identifier)
        }
        self.primaryKey = keyColumns
        self.template = try TextTemplate(textTemplate, field: "source.textTemplate")
        var columns: [SQLIdentifier] = []
        for (index, column) in payloadColumns.enumerated() {
            columns.append(try SQLIdentifier(column, field: "source.payloadColumns[\(index)]"))
        }
        self.payloadColumns = columns
    }

    /// Checks against the database that the table exists with this primary key and every column the template and
    /// payload name, and returns the key with its columns' SQL types (`bigint`, `uuid`, `text`, ...).
    func describe(_ connection: PostgresConnection, logger: Logger) async throws -> SourceKey {
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
        var keyTypes: [String: String] = [:]
        for try await (column, type) in keyRows.decode((String, String).self) { keyTypes[column] = type }
        guard Set(keyTypes.keys) == Set(primaryKey.map(\.name)) else {
            let actual = keyTypes.isEmpty ? "no primary key" : "the primary key (\(keyTypes.keys.sorted().joined(separator: ", ")))"
            throw ConfigurationError(
                field: "source.primaryKey", problem: "\(name) has \(actual), not (\(primaryKey.map(\.name).joined(separator: ", ")))",
                fix: "name every column of the table's primary key, or give the table one")
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
        return SourceKey(columns: primaryKey.map { SourceKey.Column(name: $0, type: keyTypes[$0.name] ?? "text") })
    }

    /// The current rows for these keys, keyed by the key's text form; a key without a row has been deleted.
    func currentRows(_ keys: [String], key: SourceKey, connection: PostgresConnection, logger: Logger) async throws -> [String: SourceRow] {
        let columns = try await currentColumns(keys, key: key, connection: connection, logger: logger)
        return Dictionary(uniqueKeysWithValues: columns.map { key, columns in (key, row(key: key, columns: columns)) })
    }

    /// Every column of the current rows for these keys, keyed by the key's text form.
    func currentColumns(
        _ keys: [String], key: SourceKey, connection: PostgresConnection, logger: Logger
    ) async throws
        -> [String: [String: JSONValue]]
    {
        let rows = try await connection.guardedQuery(
            """
            SELECT \(unescaped: key.text(of: "source")), to_jsonb(source)::text
            FROM unnest(\(keys)::text[]) AS wanted (key)
            JOIN \(unescaped: name.quoted) AS source ON \(unescaped: key.row(of: "source")) = \(unescaped: key.row(parsing: "wanted.key"))
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
