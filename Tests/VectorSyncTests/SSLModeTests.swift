import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing
import VectorSync

/// `sslmode` and `sslrootcert` mean what they mean to libpq, against a real PostgreSQL with TLS on and a certificate
/// that names only `localhost`.
@Suite("sslmode as libpq means it")
struct SSLModeTests {
    let logger = Logger(label: "vectorsync.test")

    /// Whether the connection works, and whether it is encrypted (as the server sees it).
    func connect(_ url: String) async throws -> Bool {
        let endpoint = try PostgresEndpoint(url: url, field: "test")
        return try await endpoint.withConnection(logger: logger) { connection in
            var encrypted = false
            for try await value in try await connection.guardedQuery(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger
            ).decode(Bool.self) { encrypted = value }
            return encrypted
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func eachModeChecksWhatLibpqChecks() async throws {
        try await PostgresServer.with(withTLSSupport: true) { server in
            let plain = "postgres://postgres@127.0.0.1:\(server.port)/postgres"
            #expect(try await connect(plain) == false, "prefer, the default, falls back to plain when the server has no TLS")
            await #expect(throws: (any Error).self) { _ = try await connect(plain + "?sslmode=require") }

            let certificate = try TestCertificate.localhost()
            try await server.enableTLS(certificate)
            let directory = try TemporaryDirectory()
            let root = directory.path + "/root.crt"
            try certificate.certificatePEM.write(toFile: root, atomically: true, encoding: .utf8)
            let otherRoot = directory.path + "/other.crt"
            try TestCertificate.localhost().certificatePEM.write(toFile: otherRoot, atomically: true, encoding: .utf8)
            let byName = "postgres://postgres@localhost:\(server.port)/postgres"

            #expect(try await connect(plain) == true, "prefer uses TLS once the server offers it")
            #expect(try await connect(plain + "?sslmode=disable") == false)
            #expect(try await connect(plain + "?sslmode=require") == true, "require does not check an unknown certificate")
            await #expect(throws: (any Error).self, "require with sslrootcert checks the chain") {
                _ = try await connect(plain + "?sslmode=require&sslrootcert=\(otherRoot)")
            }
            #expect(try await connect(plain + "?sslmode=verify-ca&sslrootcert=\(root)") == true, "verify-ca ignores the host name")
            await #expect(throws: (any Error).self, "verify-ca refuses a certificate of another authority") {
                _ = try await connect(plain + "?sslmode=verify-ca&sslrootcert=\(otherRoot)")
            }
            await #expect(throws: (any Error).self, "verify-full refuses a certificate that does not name 127.0.0.1") {
                _ = try await connect(plain + "?sslmode=verify-full&sslrootcert=\(root)")
            }
            #expect(try await connect(byName + "?sslmode=verify-full&sslrootcert=\(root)") == true)
        }
    }

    @Test func allowAndUnknownModesAreRefusedWithTheFix() {
        for mode in ["allow", "sometimes"] {
            do {
                _ = try PostgresEndpoint(url: "postgres://app:hunter2@db/shop?sslmode=\(mode)", field: "source.url")
                Issue.record("sslmode=\(mode) was accepted")
            } catch {
                #expect(error.field == "source.url")
                #expect(error.description.contains("prefer"))
                #expect(!error.description.contains("hunter2"))
            }
        }
    }
}
