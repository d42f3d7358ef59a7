import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Requests over HTTP(S) to the configuration's server, on one connection pool.
public final class HTTPKubeTransport: KubeTransport {
    private let server: String
    private let tls: KubeClientConfiguration.TLSMaterial
    private let httpClient: HTTPClient
    private let logger: Logger

    static let maxConnections = 512

    public init(configuration: KubeClientConfiguration, logger: Logger) throws {
        server = configuration.server
        tls = configuration.tls
        self.logger = logger
        let tlsConfiguration =
            try configuration.server.hasPrefix("https")
            ? Self.makeTLSConfiguration(configuration.tls, exec: nil) : nil
        var clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tlsConfiguration, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)))
        clientConfiguration.decompression = .disabled
        // A refused connection fails the attempt at once; the client's own retry policy decides what happens next,
        // so an unreachable server is reported in moments instead of after the connect timeout.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // Over HTTP/1.1 every open watch holds a connection (client-go multiplexes them over HTTP/2): an operator
        // with a dozen informers per watched namespace, plus its workers' requests, needs far more than the default 8.
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.maxConnections
        httpClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration,
            backgroundActivityLogger: logger)
    }

    public func execute(_ request: KubeTransportRequest, deadline: NIODeadline) async throws -> KubeTransportResponse {
        var httpRequest = HTTPClientRequest(url: server + request.target)
        httpRequest.method = request.method
        httpRequest.headers = request.headers
        if let body = request.body {
            httpRequest.body = .bytes(body)
        }
        if let certificate = request.clientCertificate {
            httpRequest.tlsConfiguration = try Self.makeTLSConfiguration(
                tls, exec: (certificate.certificatePEM, certificate.keyPEM))
        }
        let response = try await httpClient.execute(httpRequest, deadline: deadline, logger: logger)
        return KubeTransportResponse(
            status: Int(response.status.code), headers: response.headers, body: KubeResponseBody(response.body))
    }

    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    static func makeTLSConfiguration(
        _ material: KubeClientConfiguration.TLSMaterial, exec: (certificate: [UInt8], key: [UInt8])?
    ) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if material.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let authority = material.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(authority))
            } catch {
                throw KubeConfigurationError.invalidCertificate(
                    field: "certificate-authority", reason: "not a PEM certificate bundle (\(error))")
            }
        }
        let certificate = exec?.certificate ?? material.clientCertificatePEM
        let key = exec?.key ?? material.clientKeyPEM
        if let certificate, let key {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            } catch {
                throw KubeConfigurationError.invalidCertificate(
                    field: "client-certificate", reason: "not a PEM certificate (\(error))")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            } catch {
                // The key's bytes are secret: only say what kind of problem it is.
                throw KubeConfigurationError.invalidCertificate(field: "client-key", reason: "not a PEM private key")
            }
        }
        return tls
    }
}
