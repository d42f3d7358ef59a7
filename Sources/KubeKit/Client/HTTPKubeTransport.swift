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
            ? KubeClient.makeTLSConfiguration(configuration.tls, exec: nil) : nil
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
            httpRequest.tlsConfiguration = try KubeClient.makeTLSConfiguration(
                tls, exec: (certificate.certificatePEM, certificate.keyPEM))
        }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(httpRequest, deadline: deadline, logger: logger)
        } catch {
            throw KubeClientError.transport(server: server, reason: "\(error)")
        }
        return KubeTransportResponse(
            status: Int(response.status.code), headers: response.headers, body: KubeResponseBody(response.body))
    }

    public func shutdown() async throws {
        try await httpClient.shutdown()
    }
}
