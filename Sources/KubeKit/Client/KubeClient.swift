import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client of one Kubernetes API server. Typed calls take the generated models (`AppsV1.StatefulSet`); dynamic
/// calls take a `ResourceDescriptor` and `JSONValue`, for custom resources and kinds known only at run time.
///
/// Reads are retried on 429, 5xx and connection errors; writes are sent once. A 401 is retried once after
/// refreshing a rotating token or an exec credential. Requests travel over a `KubeTransport`: HTTP(S) unless the
/// client is made with another (KubeSim's in-process transport, in tests).
public final class KubeClient: Sendable {
    public let configuration: KubeClientConfiguration
    let logger: Logger
    private let transport: any KubeTransport
    private let credentials: CredentialProvider
    private let metrics: RequestMetrics
    private let writeFence: (any WriteFence)?

    /// Bodies larger than this are refused rather than buffered; a list this large should be paginated.
    static let maxResponseBytes = 256 * 1024 * 1024

    /// A client over HTTP(S) to the configuration's server.
    public convenience init(configuration: KubeClientConfiguration, logger: Logger = Logger(label: "kubekit")) throws {
        let transport = try HTTPKubeTransport(configuration: configuration, logger: logger)
        self.init(configuration: configuration, transport: transport, logger: logger)
    }

    /// A client whose requests `transport` carries; `configuration` still gives the credentials, retries, timeouts
    /// and the server named in errors.
    public init(
        configuration: KubeClientConfiguration, transport: any KubeTransport, logger: Logger = Logger(label: "kubekit")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.transport = transport
        self.credentials = CredentialProvider(credentials: configuration.credentials)
        self.metrics = RequestMetrics(factory: configuration.metricsFactory)
        self.writeFence = nil
    }

    private init(sharing client: KubeClient, writeFence: any WriteFence) {
        configuration = client.configuration
        logger = client.logger
        transport = client.transport
        credentials = client.credentials
        metrics = client.metrics
        self.writeFence = writeFence
    }

    /// A client on the same connections whose writes `fence` admits and bounds; reads are not fenced. Shut down
    /// the original client, not this one, once neither is used.
    public func fenced(by fence: any WriteFence) -> KubeClient {
        KubeClient(sharing: self, writeFence: fence)
    }

    /// Closes the connection pool. Call it once the client is no longer used.
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    /// The namespace calls use when they name none.
    public var defaultNamespace: String { configuration.namespace }

    // MARK: Requests

    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var query: [(String, String)] = []
        var body: Data?
        var contentType: String?
        /// Reads may be sent again after a retriable failure; writes may not.
        var idempotent: Bool { method == .GET || method == .HEAD }

        var verbLabel: String { method.rawValue }
    }

    struct Response: Sendable {
        var code: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// The path and the encoded query.
    func target(for request: Request) -> String {
        guard !request.query.isEmpty else { return request.path }
        return request.path + "?" + request.query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
    }

    private static let queryAllowed: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }

    /// Sends a request and returns the successful response, or throws `KubeAPIError` with the server's Status.
    func send(_ request: Request) async throws -> Response {
        var attempt = 0
        var refreshedCredentials = false
        while true {
            attempt += 1
            let outcome: Result<Response, any Error>
            do {
                outcome = .success(try await sendOnce(request, deadline: try await deadline(for: request)))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where response.code < 400:
                return response
            case .success(let response):
                let error = Self.apiError(from: response)
                if error.code == 401, !refreshedCredentials, await credentials.canRefresh {
                    // A rejected credential is never applied, so any verb may be sent again with a fresh one.
                    refreshedCredentials = true
                    await credentials.invalidate()
                    attempt -= 1
                    continue
                }
                guard request.idempotent, error.isRetriable, attempt < configuration.retryPolicy.maxAttempts else {
                    throw error
                }
                try await pause(afterAttempt: attempt, retryAfter: error.retryAfter, request: request, cause: "\(error.code)")
            case .failure(let error as KubeClientError):
                guard request.idempotent, case .transport = error, attempt < configuration.retryPolicy.maxAttempts
                else { throw error }
                try await pause(afterAttempt: attempt, retryAfter: nil, request: request, cause: "\(error)")
            case .failure(let error):
                throw error
            }
        }
    }

    /// The request timeout, cut short for a write by the fence, if the client has one.
    private func deadline(for request: Request) async throws -> NIODeadline {
        let timeout = NIODeadline.now() + .init(configuration.requestTimeout)
        guard !request.idempotent, let writeFence else { return timeout }
        guard let until = await writeFence.writeDeadline() else { throw KubeClientError.fenced }
        let remaining = until - ContinuousClock.now
        guard remaining > .zero else { throw KubeClientError.fenced }
        return min(timeout, .now() + .init(remaining))
    }

    private func pause(afterAttempt attempt: Int, retryAfter: Duration?, request: Request, cause: String) async throws {
        let wait = configuration.retryPolicy.backoff(afterAttempt: attempt, retryAfter: retryAfter)
        logger.debug(
            "retrying read",
            metadata: [
                "path": "\(request.path)", "attempt": "\(attempt)", "cause": "\(cause)",
                "wait": "\(wait)",
            ])
        try await Task.sleep(for: wait)
    }

    private func sendOnce(_ request: Request, deadline: NIODeadline) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await start(request, deadline: deadline)
        do {
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            metrics.record(verb: request.verbLabel, code: "\(response.status)", since: started)
            return Response(code: response.status, headers: response.headers, body: body)
        } catch {
            metrics.record(verb: request.verbLabel, code: "<error>", since: started)
            throw KubeClientError.transport(server: configuration.server, reason: "\(error)")
        }
    }

    /// Sends the request and returns once the response head has arrived, leaving the body to the caller (watches
    /// stream it).
    func start(_ request: Request, deadline: NIODeadline) async throws -> KubeTransportResponse {
        let started = ContinuousClock.now
        let requestCredentials = try await credentials.current()
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: configuration.userAgent)
        headers.add(name: "Accept", value: "application/json")
        if let authorization = requestCredentials.authorization {
            headers.add(name: "Authorization", value: authorization)
        }
        if request.body != nil {
            headers.add(name: "Content-Type", value: request.contentType ?? "application/json")
        }
        var transportRequest = KubeTransportRequest(
            method: request.method, target: target(for: request), headers: headers,
            body: request.body.map { ByteBuffer(bytes: $0) })
        if let certificate = requestCredentials.clientCertificatePEM, let key = requestCredentials.clientKeyPEM {
            transportRequest.clientCertificate = .init(certificatePEM: certificate, keyPEM: key)
        }
        do {
            return try await transport.execute(transportRequest, deadline: deadline)
        } catch {
            metrics.record(verb: request.verbLabel, code: "<error>", since: started)
            // The transport's own errors pass as they are, and so does an exec plugin's certificate that cannot be
            // used: a configuration problem, not a connection failure to retry.
            if error is KubeClientError || error is KubeConfigurationError { throw error }
            throw KubeClientError.transport(server: configuration.server, reason: "\(error)")
        }
    }

    static func apiError(from response: Response) -> KubeAPIError {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
        let data = Data(response.body.readableBytesView)
        if let status = try? JSONDecoder().decode(MetaV1.Status.self, from: data), status.kind == "Status" {
            return KubeAPIError(status: status, code: response.code, retryAfter: retryAfter)
        }
        return KubeAPIError.synthesized(
            code: response.code, body: String(decoding: data, as: UTF8.self), retryAfter: retryAfter)
    }
}
