import PostgresNIO

/// A message handed out by a queue, invisible to other receivers until it is deleted or its visibility ends.
public struct ReceivedMessage: Sendable, Hashable {
    /// The queue's message body; normally an encoded `ChangeMessage`.
    public var body: String
    /// What deletes, releases or dead-letters this delivery.
    public var receipt: String
    /// How many times the message has been handed out, this time included.
    public var receiveCount: Int
}

/// Where Pelican puts change messages and Emu takes them from: at-least-once delivery, with a dead-letter queue for
/// messages that keep failing.
public protocol ChangeQueue: Sendable {
    /// Sends messages. `transaction` is the source database's transaction that also removes them from the outbox:
    /// a queue living in that database enqueues inside it (exactly once), any other queue sends before the
    /// transaction commits (at least once).
    func send(_ messages: [ChangeMessage], within transaction: PostgresConnection) async throws

    /// Up to `maxMessages` messages, waiting up to `wait` for the first one; each stays invisible for `visibility`.
    func receive(maxMessages: Int, visibility: Duration, wait: Duration) async throws -> [ReceivedMessage]

    /// Removes messages that were handled.
    func delete(_ receipts: [String]) async throws

    /// Makes a message visible again after `delay`, recording why it failed where the queue can keep that.
    func release(_ receipt: String, after delay: Duration, error: String) async throws

    /// Keeps messages in hand invisible for `visibility` from now, for a batch that takes longer than its timeout.
    func extendVisibility(_ receipts: [String], by visibility: Duration) async throws

    /// Moves a message that can never succeed (one that does not parse) to the dead-letter queue now.
    func deadLetter(_ message: ReceivedMessage, error: String) async throws

    /// Messages waiting or in flight.
    func backlog() async throws -> Int

    /// Makes what the queue keeps its messages in, idempotently, before the first send or receive.
    func install() async throws
}

extension ChangeQueue {
    /// Queues made outside the pipeline (SQS) need nothing made.
    public func install() async throws {}
}
