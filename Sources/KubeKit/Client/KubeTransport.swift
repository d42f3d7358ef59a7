import NIOCore
import NIOHTTP1

/// How a client's requests reach an API server. `HTTPKubeTransport` sends them over HTTP(S); KubeSim's in-process
/// transport hands them to its request handler in the same process, so that tests of controllers meet the server's
/// real semantics (server-side apply, managed fields, admission, RBAC, watches) without a socket in between.
///
/// The client above a transport owns everything else: paths, credentials, retries, the write fence, metrics and
/// decoding. A transport only carries one request and its response.
public protocol KubeTransport: Sendable {
    /// Sends the request and returns once the response head has arrived; the body streams after it (a watch's body
    /// lasts as long as the watch). Throws when no response came by `deadline`; the client reports any error that is
    /// not already a `KubeClientError` or `KubeConfigurationError` as a transport failure, naming its server.
    func execute(_ request: KubeTransportRequest, deadline: NIODeadline) async throws -> KubeTransportResponse

    /// Releases the transport's connections. The client calls it once, from its own `shutdown`.
    func shutdown() async throws
}

public struct KubeTransportRequest: Sendable {
    public var method: HTTPMethod
    /// The path and the encoded query: `/api/v1/namespaces/default/pods?limit=500`.
    public var target: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer?
    /// The client certificate an exec credential plugin issued, presented in the TLS handshake of this request.
    public var clientCertificate: ClientCertificate?

    public struct ClientCertificate: Sendable {
        public var certificatePEM: [UInt8]
        public var keyPEM: [UInt8]
    }
}

public struct KubeTransportResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: KubeResponseBody

    public init(status: Int, headers: HTTPHeaders, body: KubeResponseBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A response body as the chunks it arrives in; NIOCore's `collect(upTo:)` gathers a body that is not streamed.
public struct KubeResponseBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let iterator: @Sendable () -> AsyncIterator

    public init<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks) where Chunks.Element == ByteBuffer {
        iterator = { AsyncIterator(chunks.makeAsyncIterator()) }
    }

    /// A body that is all there already.
    public init(_ buffer: ByteBuffer) {
        iterator = {
            var pending: ByteBuffer? = buffer.readableBytes > 0 ? buffer : nil
            return AsyncIterator {
                defer { pending = nil }
                return pending
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { iterator() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextChunk: () async throws -> ByteBuffer?

        init<Base: AsyncIteratorProtocol>(_ base: Base) where Base.Element == ByteBuffer {
            var base = base
            nextChunk = { try await base.next() }
        }

        init(_ nextChunk: @escaping () async throws -> ByteBuffer?) {
            self.nextChunk = nextChunk
        }

        public mutating func next() async throws -> ByteBuffer? {
            try await nextChunk()
        }
    }
}
