/// A source table's primary key as the database describes it: its columns, in key order, with their SQL types.
///
/// A row's key travels as text (in messages, in the checkpoint, as the vector's id). For a single column it is the
/// column's text form (`to_jsonb(row) ->> column`), so tables with one key column keep the ids they always had; for
/// several columns it is the JSON array of the columns' text forms as `jsonb` prints it (`["7", "en"]`), which is
/// canonical, so the trigger, the backfill and Emu derive the same text for the same row.
public struct SourceKey: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public var name: SQLIdentifier
        /// `format_type` of the column: `bigint`, `uuid`, `text`, `character varying(20)`, ...
        public var type: String
    }

    public let columns: [Column]

    init(columns: [Column]) {
        precondition(!columns.isEmpty, "a key has at least one column")
        self.columns = columns
    }

    /// The key's text form of the row `alias` (a table alias whose row is the source row).
    func text(of alias: String) -> String {
        if columns.count == 1 { return "to_jsonb(\(alias)) ->> \(SQLLiteral.string(columns[0].name.name))" }
        let parts = columns.map { "to_jsonb(\(alias)) ->> \(SQLLiteral.string($0.name.name))" }
        return "jsonb_build_array(\(parts.joined(separator: ", ")))::text"
    }

    /// The value of key column `index` inside the key text `keyText` (an SQL expression of type text), as the
    /// column's own type.
    func component(_ index: Int, of keyText: String) -> String {
        if columns.count == 1 { return "(\(keyText))::\(columns[0].type)" }
        return "((\(keyText))::jsonb ->> \(index))::\(columns[index].type)"
    }

    /// `("a", "b")`: the key columns qualified by `alias`, as a row value for comparisons and ordering.
    func row(of alias: String) -> String {
        "(" + columns.map { "\(alias).\($0.name.quoted)" }.joined(separator: ", ") + ")"
    }

    /// The row value of a key text, in the columns' types, to compare with `row(of:)`.
    func row(parsing keyText: String) -> String {
        "(" + columns.indices.map { component($0, of: keyText) }.joined(separator: ", ") + ")"
    }

    /// `alias."a", alias."b"`: the key columns, for SELECT lists and ORDER BY.
    func ordering(of alias: String) -> String { columns.map { "\(alias).\($0.name.quoted)" }.joined(separator: ", ") }
}
