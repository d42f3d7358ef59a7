/// A Postgres identifier, checked when it is made so that it can be spliced into SQL quoted.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    /// `field` names the configuration setting the name came from, for the error.
    public init(_ name: String, field: String) throws(ConfigurationError) {
        guard !name.isEmpty, name.utf8.count <= 63, let first = name.unicodeScalars.first,
            first == "_" || (first.properties.isAlphabetic && first.isASCII),
            name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "$") })
        else {
            throw ConfigurationError(
                field: field, problem: "\"\(name)\" is not a plain SQL identifier",
                fix: "use letters, digits, _ and $, starting with a letter or _, at most 63 bytes")
        }
        self.name = name
    }

    /// The identifier double-quoted, as it goes into SQL.
    public var quoted: String { "\"\(name)\"" }
    public var description: String { name }
}

/// `schema.table`, or `table` in the schema `public`.
public struct QualifiedTableName: Sendable, Hashable, CustomStringConvertible {
    public let schema: SQLIdentifier
    public let table: SQLIdentifier

    public init(_ text: String, field: String) throws(ConfigurationError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            schema = try SQLIdentifier("public", field: field)
            table = try SQLIdentifier(parts[0], field: field)
        case 2:
            schema = try SQLIdentifier(parts[0], field: field)
            table = try SQLIdentifier(parts[1], field: field)
        default:
            throw ConfigurationError(field: field, problem: "\"\(text)\" is not a table name", fix: "write `table` or `schema.table`")
        }
    }

    public var quoted: String { "\(schema.quoted).\(table.quoted)" }
    /// `schema.table`, the form messages carry.
    public var description: String { "\(schema.name).\(table.name)" }
}
