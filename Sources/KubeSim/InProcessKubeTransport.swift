import AsyncAlgorithms
import HTTPTypes
import Hummingbird
import KubeKit
import NIOCore
import NIOHTTP1

/// Carries a client's requests to a KubeSim server in the same process: each request goes through authentication,
/// RBAC, fault injection, admission and the store exactly as one from a socket does, with no connection, no HTTP
/// framing and no hop to an event loop. Tests of controllers use it to meet the API server's semantics without its
/// wire; tests of the client itself and of kubectl use the socket.
struct InProcessKubeTransport: KubeTransport {
    let responder: FaultInjectingResponder
    /// The server's host and port, as a client over the socket names them.
    let authority: String

    func execute(_ request: KubeTransportRequest, deadline: NIODeadline) async throws -> KubeTransportResponse {
        let response = try await respond(to: Self.serverRequest(request, authority: authority), before: deadline)
        var headers = HTTPHeaders()
        for field in response.headers {
            headers.add(name: field.name.rawName, value: field.value)
        }
        return KubeTransportResponse(status: Int(response.status.code), headers: headers, body: try await Self.body(of: response))
    }

    func shutdown() async throws {}

    /// No response came by the request's deadline, as when a server stalls.
    struct DeadlinePassed: Error, CustomStringConvertible {
        var description: String { "no response before the request's deadline" }
    }

    /// The response, or `DeadlinePassed` once `deadline` passes without one.
    private func respond(to request: Request, before deadline: NIODeadline) async throws -> Response {
        let remaining = deadline - .now()
        guard remaining > .zero else { throw DeadlinePassed() }
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await Self.response(to: request, from: responder) }
            group.addTask {
                try await Task.sleep(for: .nanoseconds(remaining.nanoseconds))
                return nil
            }
            defer { group.cancelAll() }
            guard case let response?? = try await group.next() else { throw DeadlinePassed() }
            return response
        }
    }

    /// The response, or for an error the responder throws rather than renders, what Hummingbird's server sends for
    /// it: an `HTTPError`'s status with its message as `{"error":{"message":…}}`, anything else a bare 500.
    private static func response(to request: Request, from responder: FaultInjectingResponder) async throws -> Response {
        do {
            return try await responder.respond(to: request)
        } catch let error as HTTPError {
            guard let message = error.body else { return Response(status: error.status, headers: error.headers) }
            var response = KubeSimResponder.json(["error": ["message": .string(message)]], status: Int(error.status.code))
            response.headers.append(contentsOf: error.headers)
            return response
        } catch let error as CancellationError {
            throw error
        } catch {
            return Response(status: .internalServerError)
        }
    }

    private static func serverRequest(_ request: KubeTransportRequest, authority: String) -> Request {
        var fields = HTTPFields()
        for (name, value) in request.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let head = HTTPRequest(
            method: HTTPRequest.Method(request.method.rawValue) ?? .get, scheme: "http", authority: authority, path: request.target,
            headerFields: fields)
        return Request(head: head, body: RequestBody(buffer: request.body ?? ByteBuffer()))
    }

    /// A body of known length is written out at once; any other (a watch, a followed log) streams as it is written.
    private static func body(of response: Response) async throws -> KubeResponseBody {
        guard response.body.contentLength != nil else { return KubeResponseBody(StreamedResponseBody(response.body)) }
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(into: collected))
        return KubeResponseBody(collected.buffer)
    }
}

/// A body the server writes while the client reads it. The writer runs in a task of its own, as it would on the
/// server's connection: the body outlives the request that opened it, so no task group of the caller's can hold it.
/// The channel between them is a rendezvous, so a reader that stops taking chunks holds the writer back as a full
/// socket buffer would, and the writer is cancelled once the reader lets go of the body, as when a connection closes.
private final class StreamedResponseBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private let channel: AsyncThrowingChannel<ByteBuffer, any Error>
    private let writing: Task<Void, Never>

    init(_ body: ResponseBody) {
        let channel = AsyncThrowingChannel<ByteBuffer, any Error>()
        self.channel = channel
        writing = Task {
            do {
                try await body.write(ChannelWriter(channel: channel))
                channel.finish()
            } catch {
                channel.fail(error)
            }
        }
    }

    deinit {
        writing.cancel()
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(owner: self, chunks: channel.makeAsyncIterator())
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        /// Keeps the writer running for as long as someone reads.
        let owner: StreamedResponseBody
        var chunks: AsyncThrowingChannel<ByteBuffer, any Error>.Iterator

        mutating func next() async throws -> ByteBuffer? {
            try await chunks.next()
        }
    }
}

private struct ChannelWriter: ResponseBodyWriter {
    let channel: AsyncThrowingChannel<ByteBuffer, any Error>

    mutating func write(_ buffer: ByteBuffer) async throws {
        await channel.send(buffer)
        // A cancelled send means the reader let go: the server's writer sees a failed write, as on a closed socket.
        try Task.checkCancellation()
    }

    /// Buffers written together are handed over together, as one socket write would carry them.
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        var joined = ByteBuffer()
        for var buffer in buffers { joined.writeBuffer(&buffer) }
        try await write(joined)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        channel.finish()
    }
}

private final class CollectedBody {
    var buffer = ByteBuffer()
}

private struct CollectingWriter: ResponseBodyWriter {
    let body: CollectedBody

    init(into body: CollectedBody) { self.body = body }

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        body.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension KubeSimServer {
    /// A transport that hands requests to this server in-process, for a `KubeClient(configuration:transport:)` whose
    /// configuration names `baseURL`. Its requests are authenticated, authorized, fault-injected and counted as
    /// requests over the socket are.
    public func inProcessTransport() -> any KubeTransport {
        InProcessKubeTransport(responder: responder, authority: "\(host):\(port)")
    }
}
