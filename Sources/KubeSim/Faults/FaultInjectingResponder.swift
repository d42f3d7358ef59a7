import Foundation
import Hummingbird
import KubeKit
import NIOCore

/// Wraps the API server's responder with the faults in force: added latency, error answers instead of serving, and
/// watch streams ended early. Faulted requests are still counted, as the real server's audit log would show them.
struct FaultInjectingResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let base: KubeSimResponder
    let injector: FaultInjector

    func respond(to request: Request, context: Context) async throws -> Response {
        try await respond(to: request)
    }

    /// The response; the connection plays no part in it, so the in-process transport calls this directly.
    func respond(to request: Request) async throws -> Response {
        let path = APIPath(path: request.uri.path)
        guard case .resource(let target) = path else { return try await base.respond(to: request) }
        let query = QueryParameters(request.uri.query)
        let verb = ResourceHandler.verb(request.method, target: target, query: query)
        let latency = await injector.faults.latency
        if latency > .zero { try await Task.sleep(for: latency) }
        let failure: APIError?
        var headers: HTTPFields = [:]
        switch await injector.decide(verb: verb) {
        case .serve:
            failure = nil
        case .internalError:
            failure = APIError(
                code: 500, reason: "InternalError", message: "Internal error occurred: injected by kube-sim fault injection",
                details: ["causes": [["message": "injected by kube-sim fault injection"]]])
        case .tooManyRequests(let seconds):
            headers[.retryAfter] = String(seconds)
            failure = APIError(
                code: 429, reason: "TooManyRequests", message: "the server has received too many requests and has asked us to try again later",
                details: ["retryAfterSeconds": .int(Int64(seconds))])
        case .conflict:
            let resource = target.group.isEmpty ? target.plural : "\(target.plural).\(target.group)"
            failure = APIError(
                code: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \(resource) \"\(target.name ?? "")\": the object has been modified; please apply your changes to the latest version and try again",
                details: APIError.details(name: target.name, group: target.group, kind: target.plural))
        }
        if let failure {
            await base.counter.record(KubeSimResponder.accountingKey(request, path: path, query: query))
            var response = KubeSimResponder.json(failure.status, status: failure.code)
            response.headers.append(contentsOf: headers)
            return response
        }
        var response = try await base.respond(to: request)
        if verb == "watch", response.status == .ok, let drops = await injector.watchDrops() {
            let body = response.body
            response.body = ResponseBody { writer in
                try await body.write(DroppingWriter(base: writer, rate: drops.rate, random: drops.generator))
            }
        }
        return response
    }
}

/// A watch body writer that, after each event, ends the stream with the given chance: the watch handler sees a
/// failed write, stops its watch and finishes the response, so the client reads a clean end of stream.
struct DroppingWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let rate: Double
    var random: SeededGenerator
    private var dropped = false

    init(base: any ResponseBodyWriter, rate: Double, random: SeededGenerator) {
        self.base = base
        self.rate = rate
        self.random = random
    }

    struct StreamDropped: Error {}

    mutating func write(_ buffer: ByteBuffer) async throws {
        if dropped { throw StreamDropped() }
        try await base.write(buffer)
        if random.unit() < rate {
            dropped = true
            throw StreamDropped()
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }
}
