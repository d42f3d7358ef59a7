import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import TestSupport
import Testing

@testable import KubeKit

/// The client against a real TLS server that, like an API server, presents a certificate from its own CA and
/// requires a client certificate signed by it. The fixtures are a test-only CA, server and client certificate.
@Suite("Client TLS")
struct ClientTLSTests {
    let fixtures = Bundle.module.resourcePath! + "/Fixtures/kubeconfig"

    func pem(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)))
    }

    /// Runs `body` with the URL of a mutual-TLS server answering every GET with a ConfigMap.
    func withMutualTLSServer(_ body: (String) async throws -> Void) async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(try pem("server.crt")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: try pem("server.key"), format: .pem)))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(try pem("ca.crt")))
        tls.certificateVerification = .noHostnameVerification
        let router = Router()
        router.get("**") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tls"}}"#)))
        }
        var logger = Logger(label: "tls-test-server")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, server: try .tls(tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            }, logger: logger)
        let task = Task { try await application.run() }
        defer { task.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body("https://127.0.0.1:\(port)")
    }

    func get(_ configuration: KubeClientConfiguration) async throws -> CoreV1.ConfigMap {
        let client = try KubeClient(configuration: configuration)
        do {
            let result = try await client.get(CoreV1.ConfigMap.self, name: "tls", namespace: "default")
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func trustsTheClustersCertificateAuthorityAndPresentsTheClientCertificate() async throws {
        try await withMutualTLSServer { url in
            let tls = KubeClientConfiguration.TLSMaterial(
                certificateAuthorityPEM: try pem("ca.crt"), clientCertificatePEM: try pem("client.crt"),
                clientKeyPEM: try pem("client.key"))
            let configMap = try await get(.init(server: url, tls: tls, retryPolicy: .none))
            #expect(configMap.metadata?.name == "tls")
        }
    }

    @Test func refusesAServerItCannotVerify() async throws {
        try await withMutualTLSServer { url in
            // The system trust store does not know the test CA.
            let tls = KubeClientConfiguration.TLSMaterial(
                clientCertificatePEM: try pem("client.crt"), clientKeyPEM: try pem("client.key"))
            await #expect {
                try await get(.init(server: url, tls: tls, retryPolicy: .none))
            } throws: { error in
                guard case .transport = error as? KubeClientError else { return false }
                return true
            }
        }
    }

    @Test func insecureSkipTLSVerifyAcceptsAnyServerCertificate() async throws {
        try await withMutualTLSServer { url in
            let tls = KubeClientConfiguration.TLSMaterial(
                insecureSkipTLSVerify: true, clientCertificatePEM: try pem("client.crt"),
                clientKeyPEM: try pem("client.key"))
            #expect(try await get(.init(server: url, tls: tls, retryPolicy: .none)).metadata?.name == "tls")
        }
    }

    @Test func withoutAClientCertificateTheServerRefuses() async throws {
        try await withMutualTLSServer { url in
            let tls = KubeClientConfiguration.TLSMaterial(certificateAuthorityPEM: try pem("ca.crt"))
            await #expect(throws: KubeClientError.self) {
                try await get(.init(server: url, tls: tls, retryPolicy: .none))
            }
        }
    }

    @Test func clientCertificateFromAnExecPluginIsPresented() async throws {
        let directory = try TemporaryDirectory()
        struct Status: Encodable {
            var clientCertificateData: String
            var clientKeyData: String
        }
        struct Credential: Encodable {
            var apiVersion = "client.authentication.k8s.io/v1"
            var kind = "ExecCredential"
            var status: Status
        }
        let credential = Credential(
            status: .init(
                clientCertificateData: String(decoding: try pem("client.crt"), as: UTF8.self),
                clientKeyData: String(decoding: try pem("client.key"), as: UTF8.self)))
        let credentialFile = directory.path + "/credential.json"
        try JSONEncoder().encode(credential).write(to: URL(fileURLWithPath: credentialFile))
        let script = directory.path + "/plugin.sh"
        try "#!/bin/sh\ncat \"\(credentialFile)\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)

        try await withMutualTLSServer { url in
            let configuration = try KubeClientConfiguration(
                server: url, tls: .init(certificateAuthorityPEM: try pem("ca.crt")),
                credentials: .exec(.init(command: script, interactiveMode: "Never"), cluster: nil), retryPolicy: .none)
            #expect(try await get(configuration).metadata?.name == "tls")
        }
    }
}
