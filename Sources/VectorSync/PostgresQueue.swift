import Logging
import PostgresNIO

/// The `postgres` queue: a jobs table in the source database, claimed with `FOR UPDATE SKIP LOCKED`, with a
/// visibility timeout, a receive count, and a dead-letter table that takes a message on the receive after its
/// `maxReceiveCount`-th. Enqueueing shares the outbox's transaction, so a captured change is queued exactly once.
public struct PostgresQueue: ChangeQueue {
    public let name: String
    public let maxReceiveCount: Int
    private let client: PostgresClient
    private let logger: Logger
    /// How often an empty queue is looked at again while a receive waits.
    private let pollInterval: Duration

    public init(client: PostgresClient, name: String, maxReceiveCount: Int = 5, pollInterval: Duration = .milliseconds(50), logger: Logger) {
        self.client = client
        self.name = name
        self.maxReceiveCount = maxReceiveCount
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Creates the tables if they are missing.
    public func install() async throws {
        try await client.withGuardedTransaction(logger: logger) { connection in
            try await CaptureSchema.lockInstallation(connection, logger: logger)
            try await connection.guardedQuery("CREATE SCHEMA IF NOT EXISTS \(unescaped: CaptureSchema.schema)", logger: logger)
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: CaptureSchema.schema).jobs (
                    id bigserial PRIMARY KEY,
                    queue text NOT NULL,
                    body text NOT NULL,
                    enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    visible_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    receive_count integer NOT NULL DEFAULT 0,
                    last_error text
                )
                """, logger: logger)
            try await connection.guardedQuery(
                "CREATE INDEX IF NOT EXISTS jobs_queue_visible ON \(unescaped: CaptureSchema.schema).jobs (queue, visible_at, id)",
                logger: logger)
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: CaptureSchema.schema).dead_letters (
                    id bigint PRIMARY KEY,
                    queue text NOT NULL,
                    body text NOT NULL,
                    enqueued_at timestamptz NOT NULL,
                    dead_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    receive_count integer NOT NULL,
                    last_error text
                )
                """, logger: logger)
        }
    }

    public func send(_ messages: [ChangeMessage], within transaction: PostgresConnection) async throws {
        guard !messages.isEmpty else { return }
        try await transaction.guardedQuery(
            "INSERT INTO \(unescaped: CaptureSchema.schema).jobs (queue, body) SELECT \(name), unnest(\(messages.map { $0.encoded() }))",
            logger: logger)
    }

    /// Sends outside any source transaction (for tests and tools that queue by hand).
    public func send(_ messages: [ChangeMessage]) async throws {
        try await client.withConnection { connection in try await send(messages, within: connection) }
    }

    public func receive(maxMessages: Int, visibility: Duration, wait: Duration) async throws -> [ReceivedMessage] {
        let deadline = ContinuousClock.now + wait
        while true {
            let messages = try await claim(maxMessages: maxMessages, visibility: visibility)
            if !messages.isEmpty || ContinuousClock.now >= deadline { return messages }
            try await Task.sleep(for: pollInterval)
        }
    }

    private func claim(maxMessages: Int, visibility: Duration) async throws -> [ReceivedMessage] {
        try await client.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery(
                """
                WITH exhausted AS (
                    DELETE FROM \(unescaped: CaptureSchema.schema).jobs WHERE id IN (
                        SELECT id FROM \(unescaped: CaptureSchema.schema).jobs
                        WHERE queue = \(name) AND visible_at <= clock_timestamp() AND receive_count >= \(maxReceiveCount)
                        FOR UPDATE SKIP LOCKED)
                    RETURNING *)
                INSERT INTO \(unescaped: CaptureSchema.schema).dead_letters (id, queue, body, enqueued_at, receive_count, last_error)
                SELECT id, queue, body, enqueued_at, receive_count, last_error FROM exhausted
                """, logger: logger)
            let rows = try await connection.guardedQuery(
                """
                UPDATE \(unescaped: CaptureSchema.schema).jobs AS job
                SET visible_at = clock_timestamp() + \(visibility.seconds) * interval '1 second',
                    receive_count = job.receive_count + 1
                FROM (SELECT id FROM \(unescaped: CaptureSchema.schema).jobs
                      WHERE queue = \(name) AND visible_at <= clock_timestamp()
                      ORDER BY id LIMIT \(maxMessages) FOR UPDATE SKIP LOCKED) AS claimed
                WHERE job.id = claimed.id
                RETURNING job.id, job.body, job.receive_count
                """, logger: logger)
            var messages: [ReceivedMessage] = []
            for try await (id, body, count) in rows.decode((Int64, String, Int32).self) {
                messages.append(ReceivedMessage(body: body, receipt: String(id), receiveCount: Int(count)))
            }
            return messages.sorted { Int64($0.receipt)! < Int64($1.receipt)! }
        }
    }

    public func delete(_ receipts: [String]) async throws {
        guard !receipts.isEmpty else { return }
        try await client.guardedQuery(
            "DELETE FROM \(unescaped: CaptureSchema.schema).jobs WHERE id = ANY(\(try ids(receipts)))", logger: logger)
    }

    public func release(_ receipt: String, after delay: Duration, error: String) async throws {
        try await setVisibility([receipt], after: delay, error: error)
    }

    public func extendVisibility(_ receipts: [String], by visibility: Duration) async throws {
        try await setVisibility(receipts, after: visibility, error: nil)
    }

    /// Makes jobs visible `delay` from now, recording `error` when there is one.
    private func setVisibility(_ receipts: [String], after delay: Duration, error: String?) async throws {
        guard !receipts.isEmpty else { return }
        try await client.guardedQuery(
            """
            UPDATE \(unescaped: CaptureSchema.schema).jobs
            SET visible_at = clock_timestamp() + \(delay.seconds) * interval '1 second', last_error = coalesce(\(error), last_error)
            WHERE id = ANY(\(try ids(receipts)))
            """, logger: logger)
    }

    public func deadLetter(_ message: ReceivedMessage, error: String) async throws {
        try await client.guardedQuery(
            """
            WITH dead AS (DELETE FROM \(unescaped: CaptureSchema.schema).jobs WHERE id = \(try ids([message.receipt])[0]) RETURNING *)
            INSERT INTO \(unescaped: CaptureSchema.schema).dead_letters (id, queue, body, enqueued_at, receive_count, last_error)
            SELECT id, queue, body, enqueued_at, receive_count, \(error) FROM dead
            """, logger: logger)
    }

    public func backlog() async throws -> Int {
        let rows = try await client.guardedQuery(
            "SELECT count(*) FROM \(unescaped: CaptureSchema.schema).jobs WHERE queue = \(name)", logger: logger)
        return try rows.first.map { Int(try $0.decode(Int64.self)) } ?? 0
    }

    /// The dead letters of this queue, oldest first: (body, error).
    public func deadLetters() async throws -> [(body: String, error: String?)] {
        let rows = try await client.guardedQuery(
            "SELECT body, last_error FROM \(unescaped: CaptureSchema.schema).dead_letters WHERE queue = \(name) ORDER BY dead_at, id",
            logger: logger)
        return try rows.map { try $0.decode((String, String?).self) }
    }

    private func ids(_ receipts: [String]) throws -> [Int64] {
        try receipts.map { receipt in
            guard let id = Int64(receipt) else { throw QueueError.foreignReceipt(receipt) }
            return id
        }
    }
}

public enum QueueError: Error, CustomStringConvertible {
    case foreignReceipt(String)

    public var description: String {
        switch self {
        case .foreignReceipt(let receipt): "\"\(receipt)\" is not a receipt of the postgres queue (a job id)"
        }
    }
}

extension Duration {
    /// The duration in seconds, as SQL intervals take it.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
