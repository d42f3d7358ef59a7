import Logging
import PostgresNIO

/// Queries that fail, rather than wait forever, when their connection has closed.
///
/// PostgresNIO (1.33) sends a query by writing it to the connection's channel without a promise. Once a closed
/// channel has dropped its handlers, such a write is discarded and nothing ever answers the query. That happens
/// whenever the server dies while a connection is leased but idle, for example between the statements of a
/// transaction while the caller waits on a sink or the embedder: the next statement, or the COMMIT, never returns,
/// and the worker stalls with no error to retry on. Every query here is watched: once the connection is closed and
/// a moment has passed for a query in flight to get its own error, a query still unanswered fails. (The task that
/// sent it stays suspended; nothing will ever resume it, and it holds no more than the query.)
extension PostgresConnection {
    /// How often a pending query looks at its connection.
    static let closeCheckInterval: Duration = .milliseconds(250)

    /// `query(_:logger:)`, failing with `ConnectionClosedError` when the connection closes unanswered. Like
    /// PostgresNIO's own queries, it is not cut short by cancellation: a cancelled worker still finishes (or
    /// releases) what it holds.
    @discardableResult
    public func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws
        -> PostgresRowSequence
    {
        guard !isClosed else { throw ConnectionClosedError() }
        let answer = PendingAnswer()
        let watcher = Task {
            var closedChecks = 0
            while !Task.isCancelled {
                try await Task.sleep(for: Self.closeCheckInterval)
                closedChecks = isClosed ? closedChecks + 1 : 0
                // The second look: a query the connection failed as it closed has had time to say so.
                if closedChecks >= 2 { return await answer.resume(with: .failure(ConnectionClosedError())) }
            }
        }
        Task {
            let result: Result<PostgresRowSequence, any Error>
            do {
                result = .success(try await self.query(query, logger: logger, file: file, line: line))
            } catch {
                result = .failure(error)
            }
            watcher.cancel()
            await answer.resume(with: result)
        }
        return try await answer.value()
    }

    /// A transaction whose BEGIN, COMMIT and ROLLBACK are guarded queries: it commits when `body` returns and rolls
    /// back (if the connection still can) when it throws, rethrowing `body`'s error.
    public func withGuardedTransaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await guardedQuery("BEGIN", logger: logger)
        let value: Result
        do {
            value = try await body(self)
        } catch {
            _ = try? await guardedQuery("ROLLBACK", logger: logger)
            throw error
        }
        try await guardedQuery("COMMIT", logger: logger)
        return value
    }
}

extension PostgresClient {
    /// A guarded query on a pooled connection; the rows are read before the connection goes back to the pool.
    @discardableResult
    func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.guardedQuery(query, logger: logger, file: file, line: line).collect()
        }
    }

    /// A guarded transaction on a pooled connection.
    func withGuardedTransaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withConnection { connection in
            try await connection.withGuardedTransaction(logger: logger, body)
        }
    }
}

/// The connection to PostgreSQL closed before the query was answered.
public struct ConnectionClosedError: Error, CustomStringConvertible {
    public var description: String { "the connection to PostgreSQL closed before the query was answered" }
}

/// The answer to a guarded query, given once by whichever comes first: the server or the close.
private actor PendingAnswer {
    private var result: Result<PostgresRowSequence, any Error>?
    private var waiter: CheckedContinuation<PostgresRowSequence, any Error>?

    func value() async throws -> PostgresRowSequence {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { waiter = $0 }
    }

    func resume(with result: Result<PostgresRowSequence, any Error>) {
        guard self.result == nil else { return }
        self.result = result
        waiter?.resume(with: result)
        waiter = nil
    }
}
