import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// The operator's engine calls must not hold a reconcile: the endpoint's statement timeout reaches the server.
@Suite("Statement timeout")
struct StatementTimeoutTests {
    let logger = Logger(label: "vectorsync.test")

    @Test(.timeLimit(.minutes(2)))
    func theServerCancelsAStatementThatOutlastsTheTimeout() async throws {
        try await PostgresServer.with { server in
            var endpoint = try PostgresEndpoint(url: server.url(), field: "test")
            endpoint.statementTimeout = .milliseconds(300)
            try await endpoint.withConnection(logger: logger) { connection in
                var setting = ""
                for try await value in try await connection.guardedQuery("SHOW statement_timeout", logger: logger).decode(String.self) {
                    setting = value
                }
                #expect(setting == "300ms")
                do {
                    for try await _ in try await connection.guardedQuery("SELECT pg_sleep(60)", logger: logger) {}
                    Issue.record("a 60 s statement finished under a 300 ms statement timeout")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "57014")  // query_canceled
                }
            }
            // The pool's connections (Pelican's and Emu's) start with the same setting.
            let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let rows = try await client.guardedQuery("SHOW statement_timeout", logger: logger)
                #expect(try rows.first?.decode(String.self) == "300ms")
            }
        }
    }
}
