import Foundation

/// What travels on the queue: which row changed, never the row itself (Emu re-reads the current row, so an old
/// message cannot overwrite newer data).
public struct ChangeMessage: Sendable, Hashable, Codable {
    public enum Operation: String, Sendable, Hashable, Codable {
        case insert, update, delete
        /// Queued by the backfill for a row that was already in the table.
        case backfill
    }

    /// `schema.table`.
    public var table: String
    /// The primary key's value as text (the form `to_jsonb(row) ->> column` gives).
    public var pk: String
    public var op: Operation
    /// The outbox sequence number: increasing in the order changes were captured.
    public var seq: Int64

    public init(table: String, pk: String, op: Operation, seq: Int64) {
        self.table = table
        self.pk = pk
        self.op = op
        self.seq = seq
    }

    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    public static func decode(_ body: String) throws -> ChangeMessage {
        try JSONDecoder().decode(ChangeMessage.self, from: Data(body.utf8))
    }
}
