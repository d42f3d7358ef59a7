import Logging
import NIOConcurrencyHelpers
import NIOCore
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
    /// How long after its connection closes a query still unanswered is failed: a query the connection failed as it
    /// closed has had this long to report its own error.
    static let closeGrace: TimeAmount = .milliseconds(500)

    /// `query(_:logger:)`, failing with `ConnectionClosedError` when the connection closes unanswered. Like
    /// PostgresNIO's own queries, it is not cut short by cancellation: a cancelled worker still finishes (or
    /// releases) what it holds.
    @discardableResult
    public func guardedQuery(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws
        -> PostgresRowSequence
    {
        guard !isClosed else { throw ConnectionClosedError() }
        let answer = PendingAnswer()
        let registration = PendingQueries.shared.register(answer, on: self)
        // Not a child task: a query the closed channel discarded never returns, and its task must not hold up ours.
        Task {
            let result: Result<PostgresRowSequence, any Error>
            do {
                result = .success(try await self.query(query, logger: logger, file: file, line: line))
            } catch {
                result = .failure(error)
            }
            PendingQueries.shared.unregister(registration)
            answer.resume(with: result)
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
    public func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.guardedQuery(query, logger: logger, file: file, line: line).collect()
        }
    }

    /// A guarded transaction on a pooled connection.
    public func withGuardedTransaction<Result>(
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
private final class PendingAnswer: Sendable {
    private struct State {
        var result: Result<PostgresRowSequence, any Error>?
        var waiter: CheckedContinuation<PostgresRowSequence, any Error>?
    }

    private let state = NIOLockedValueBox(State())

    func value() async throws -> PostgresRowSequence {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLockedValue { state in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    func resume(with result: Result<PostgresRowSequence, any Error>) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<PostgresRowSequence, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }
}

/// The guarded queries awaiting an answer, by connection. Each connection is watched once, through its close
/// future: when it closes, whatever is still pending on it fails after `closeGrace`. Nothing polls, and a query
/// that is answered leaves nothing behind.
private final class PendingQueries: Sendable {
    static let shared = PendingQueries()

    struct Registration: Sendable {
        var connection: ObjectIdentifier
        var query: Int
    }

    private struct State {
        var nextQuery = 0
        /// The connection is held until it has closed and its queries have failed, so that no new connection takes
        /// its identifier meanwhile.
        var pending: [ObjectIdentifier: (connection: PostgresConnection, answers: [Int: PendingAnswer])] = [:]
    }

    private let state = NIOLockedValueBox(State())

    func register(_ answer: PendingAnswer, on connection: PostgresConnection) -> Registration {
        let id = ObjectIdentifier(connection)
        let (registration, firstOnConnection) = state.withLockedValue { state in
            defer { state.nextQuery += 1 }
            let first = state.pending[id] == nil
            state.pending[id, default: (connection, [:])].answers[state.nextQuery] = answer
            return (Registration(connection: id, query: state.nextQuery), first)
        }
        if firstOnConnection {
            let eventLoop = connection.eventLoop
            connection.closeFuture.whenComplete { _ in
                eventLoop.scheduleTask(in: PostgresConnection.closeGrace) { self.failAll(on: id) }
            }
        }
        return registration
    }

    func unregister(_ registration: Registration) {
        state.withLockedValue { state in
            state.pending[registration.connection]?.answers[registration.query] = nil
        }
    }

    private func failAll(on connection: ObjectIdentifier) {
        let answers = state.withLockedValue { state in
            state.pending.removeValue(forKey: connection).map { Array($0.answers.values) } ?? []
        }
        for answer in answers { answer.resume(with: .failure(ConnectionClosedError())) }
    }
}
