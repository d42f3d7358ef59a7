import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// A Postgres server and database from a libpq URI, `postgres://user:password@host:5432/db?sslmode=require`.
public struct PostgresEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requiresTLS: Bool
    /// How long a new connection may take to be established and authenticated.
    public var connectTimeout: Duration = .seconds(10)
    /// The server cancels any statement of the connection that runs longer (PostgreSQL's `statement_timeout`).
    public var statementTimeout: Duration?

    public init(host: String, port: Int, username: String, password: String?, database: String, requiresTLS: Bool) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requiresTLS = requiresTLS
    }

    /// `field` names the setting the URI came from; no error repeats the password.
    public init(url text: String, field: String) throws(ConfigurationError) {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(
                field: field, problem: "not a Postgres URI", fix: "write postgres://user:password@host:5432/database")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.username : path
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        switch sslMode {
        case "disable", "allow", "prefer": requiresTLS = false
        case "require", "verify-ca", "verify-full": requiresTLS = true
        default:
            throw ConfigurationError(field: field, problem: "sslmode=\(sslMode) is not a libpq sslmode", fix: "use disable, require, verify-ca or verify-full")
        }
    }

    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            requiresTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        if let statementTimeout {
            let milliseconds = statementTimeout.components.seconds * 1_000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.additionalStartupParameters.append(("statement_timeout", "\(milliseconds)"))
        }
        return configuration
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requiresTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }

    /// Runs `body` on a new connection, closed afterwards. Statements in `body` should be `guardedQuery`s.
    public func withConnection<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await PostgresConnection.connect(
            configuration: try connectionConfiguration(), id: Int.random(in: 1...Int.max), logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
