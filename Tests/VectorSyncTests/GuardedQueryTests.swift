import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// A query whose connection the server has closed fails, where PostgresNIO's own query would wait forever.
@Suite("Guarded queries on connections the server closed")
struct GuardedQueryTests {
    let logger = Logger(label: "vectorsync.test")

    /// Ends the server process behind `connection` and waits until the connection has noticed and dropped its handlers.
    func terminateBackend(of connection: PostgresConnection, on endpoint: PostgresEndpoint) async throws {
        var pid: Int32 = 0
        for try await value in try await connection.guardedQuery("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
        try await endpoint.withConnection(logger: logger) { other in
            _ = try await other.query("SELECT pg_terminate_backend(\(pid))", logger: logger)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !connection.isClosed, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(connection.isClosed)
        try await Task.sleep(for: .milliseconds(200))
    }

    @Test(.timeLimit(.minutes(2)))
    func aQueryOnAClosedConnectionFails() async throws {
        try await PostgresServer.with { server in
            let endpoint = try PostgresEndpoint(url: server.url(), field: "test")
            try await endpoint.withConnection(logger: logger) { connection in
                try await terminateBackend(of: connection, on: endpoint)
                await #expect(throws: ConnectionClosedError.self) { try await connection.guardedQuery("SELECT 1", logger: logger) }
            }
        }
    }

    /// The server goes while a transaction waits between statements, as Emu's does while it writes the sinks:
    /// the transaction fails (its COMMIT is never answered), and the pool's next connection works.
    @Test(.timeLimit(.minutes(2)))
    func aTransactionWhoseConnectionClosesFailsAndThePoolRecovers() async throws {
        try await PostgresServer.with { server in
            let endpoint = try PostgresEndpoint(url: server.url(), field: "test")
            let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await client.guardedQuery("CREATE TABLE marks (id int PRIMARY KEY)", logger: logger)
                await #expect(throws: ConnectionClosedError.self) {
                    try await client.withGuardedTransaction(logger: logger) { transaction in
                        try await transaction.guardedQuery("INSERT INTO marks VALUES (1)", logger: logger)
                        try await terminateBackend(of: transaction, on: endpoint)
                    }
                }
                try await client.guardedQuery("INSERT INTO marks VALUES (2)", logger: logger)
                let rows = try await client.guardedQuery("SELECT id FROM marks ORDER BY id", logger: logger)
                #expect(try rows.map { try $0.decode(Int32.self) } == [2])
            }
        }
    }
}
