import Foundation
import Logging
import PostgresNIO

extension SourceTable {
    /// Up to `limit` rows after the key text `cursor` (nil: from the start), in primary-key order on the key's index,
    /// as the sinks would see them; the last row's key continues.
    func rows(after cursor: String?, limit: Int, key: SourceKey, connection: PostgresConnection, logger: Logger) async throws -> [SourceRow] {
        let rows = try await connection.guardedQuery(
            """
            SELECT \(unescaped: key.text(of: "source")), to_jsonb(source)::text
            FROM \(unescaped: name.quoted) AS source, (SELECT \(cursor)::text AS after) AS checkpoint
            WHERE checkpoint.after IS NULL OR \(unescaped: key.row(of: "source")) > \(unescaped: key.row(parsing: "checkpoint.after"))
            ORDER BY \(unescaped: key.ordering(of: "source")) LIMIT \(limit)
            """, logger: logger)
        var page: [SourceRow] = []
        for try await (keyText, json) in rows.decode((String, String).self) {
            if case .object(let columns) = try JSONValue.parse(json) { page.append(row(key: keyText, columns: columns)) }
        }
        return page
    }

    /// Up to `count` rows picked at random, as the sinks would see them. `ORDER BY random()` reads the whole table,
    /// which a comparison between sinks (once per added sink) can afford.
    func sample(_ count: Int, key: SourceKey, connection: PostgresConnection, logger: Logger) async throws -> [SourceRow] {
        let rows = try await connection.guardedQuery(
            """
            SELECT \(unescaped: key.text(of: "source")), to_jsonb(source)::text
            FROM \(unescaped: name.quoted) AS source ORDER BY random() LIMIT \(count)
            """, logger: logger)
        var sample: [SourceRow] = []
        for try await (keyText, json) in rows.decode((String, String).self) {
            if case .object(let columns) = try JSONValue.parse(json) { sample.append(row(key: keyText, columns: columns)) }
        }
        return sample
    }

    /// Those of `keys` that are rows of the table. A text that cannot be a key of its columns' types (an id some
    /// other writer put in a sink) is not one, and is not sent to the database, whose cast would refuse it.
    func existingKeys(_ keys: [String], key: SourceKey, connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        let candidates = keys.filter(key.couldBeKey)
        guard !candidates.isEmpty else { return [] }
        let rows = try await connection.guardedQuery(
            """
            SELECT wanted.key FROM unnest(\(candidates)::text[]) AS wanted (key)
            WHERE EXISTS (SELECT 1 FROM \(unescaped: name.quoted) AS source
                          WHERE \(unescaped: key.row(of: "source")) = \(unescaped: key.row(parsing: "wanted.key")))
            """, logger: logger)
        var found = Set<String>()
        for try await keyText in rows.decode(String.self) { found.insert(keyText) }
        return found
    }
}

extension SourceKey {
    /// Whether `text` has the shape of this key's text: the right number of components, each castable to its
    /// column's type where that can be told without the database (integers, UUIDs; other types pass).
    func couldBeKey(_ text: String) -> Bool {
        if columns.count == 1 { return Self.couldBe(text, type: columns[0].type) }
        guard case .array(let parts) = try? JSONValue.parse(text), parts.count == columns.count else { return false }
        return zip(parts, columns).allSatisfy { part, column in
            if case .string(let value) = part { return Self.couldBe(value, type: column.type) }
            return false
        }
    }

    private static func couldBe(_ value: String, type: String) -> Bool {
        switch type {
        case "bigint": Int64(value) != nil
        case "integer": Int32(value) != nil
        case "smallint": Int16(value) != nil
        case "uuid": UUID(uuidString: value) != nil
        default: true
        }
    }
}
