import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// A Postgres server and database from a libpq URI, `postgres://user:password@host:5432/db?sslmode=require`.
public struct PostgresEndpoint: Sendable {
    /// libpq's `sslmode`, with libpq's meaning (its default is `prefer`).
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain connections only.
        case disable
        /// TLS when the server offers it, plain otherwise; the certificate is not checked.
        case prefer
        /// TLS or no connection; the certificate is checked only against `sslrootcert` when one is given.
        case require
        /// TLS with a certificate signed by a trusted authority (`sslrootcert`, else the system's), any host name.
        case verifyCA = "verify-ca"
        /// As verify-ca, and the certificate must name the host connected to.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// The PEM file of the authorities a server certificate must chain to (libpq's `sslrootcert`).
    public var sslRootCertificate: String?
    /// How long a new connection may take to be established and authenticated.
    public var connectTimeout: Duration = .seconds(10)
    /// The server cancels any statement of the connection that runs longer (PostgreSQL's `statement_timeout`).
    public var statementTimeout: Duration?

    public init(
        host: String, port: Int, username: String, password: String?, database: String, sslMode: SSLMode = .prefer,
        sslRootCertificate: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.sslRootCertificate = sslRootCertificate
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
        let query = components.queryItems ?? []
        let mode = query.first { $0.name == "sslmode" }?.value ?? SSLMode.prefer.rawValue
        if mode == "allow" {
            throw ConfigurationError(
                field: field, problem: "sslmode=allow (plain first, TLS only when the server insists) is not supported",
                fix: "use prefer, which tries TLS first, or disable")
        }
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw ConfigurationError(
                field: field, problem: "sslmode=\(mode) is not a libpq sslmode",
                fix: "use \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.sslMode = sslMode
        self.sslRootCertificate = query.first { $0.name == "sslrootcert" }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// What TLS must prove, as libpq's sslmode says; nil for plain connections.
    public func tlsConfiguration() -> TLSConfiguration? {
        guard sslMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        switch sslMode {
        case .disable, .prefer: tls.certificateVerification = .none
        // libpq's require checks the chain only when given a root certificate.
        case .require: tls.certificateVerification = sslRootCertificate == nil ? .none : .noHostnameVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        return tls
    }

    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch (sslMode, tlsConfiguration()) {
        case (.prefer, let configuration?): tls = .prefer(try NIOSSLContext(configuration: configuration))
        case (_, let configuration?): tls = .require(try NIOSSLContext(configuration: configuration))
        case (_, nil): tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch (sslMode, tlsConfiguration()) {
        case (.prefer, let configuration?): tls = .prefer(configuration)
        case (_, let configuration?): tls = .require(configuration)
        case (_, nil): tls = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// Settings every session of the endpoint starts with.
    private var startupParameters: [(String, String)] {
        statementTimeout.map { timeout in
            let milliseconds = timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000
            return [("statement_timeout", "\(milliseconds)")]
        } ?? []
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
