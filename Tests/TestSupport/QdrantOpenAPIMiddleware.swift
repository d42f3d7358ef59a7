import Foundation
import HTTPTypes
import Hummingbird
import JSONValues
import NIOConcurrencyHelpers
import NIOCore

/// What the Qdrant double found breaking `openapi.json`, in requests and in its own answers.
final class QdrantSchemaViolations: Sendable {
    private let found = NIOLockedValueBox<[String]>([])

    func record(_ problems: [String]) {
        found.withLockedValue { $0 += problems }
    }

    var all: [String] { found.withLockedValue { $0 } }
}

/// Checks each request against its operation in `openapi.json` and lets `QdrantServer.respond` check the answer:
/// the operation travels with the request as a task-local value.
struct OpenAPIMiddleware: RouterMiddleware {
    struct Checking: Sendable {
        var api: QdrantOpenAPI
        var operation: QdrantOpenAPI.Operation
        var violations: QdrantSchemaViolations
    }

    @TaskLocal static var checking: Checking?

    let api: QdrantOpenAPI
    let violations: QdrantSchemaViolations

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard let operation = api.operation(method: request.method.rawValue, path: request.uri.path) else {
            let problem = "\(request.method) \(request.uri.path) is no operation of openapi.json"
            violations.record([problem])
            return QdrantServer.error(.notFound, problem)
        }
        var request = request
        var body: JSONValue?
        let contentType = request.headers[.contentType] ?? ""
        if !contentType.hasPrefix("multipart/") {
            let bytes = try await request.collectBody(upTo: 64 << 20)
            if bytes.readableBytes > 0 {
                guard let parsed = try? JSONValue.parse(String(buffer: bytes)) else {
                    return QdrantServer.error(.badRequest, "Format error in JSON body: not JSON")
                }
                body = parsed
            }
        }
        let problems = api.checkRequest(operation, body: body)
        guard problems.isEmpty else {
            violations.record(problems)
            return QdrantServer.error(.unprocessableContent, "Format error in JSON body: \(problems.joined(separator: "; "))")
        }
        return try await Self.$checking.withValue(Checking(api: api, operation: operation, violations: violations)) {
            try await next(request, context)
        }
    }
}

extension QdrantServer {
    /// Every request body and answer that broke `openapi.json` so far (on any peer of a `startPeers` cluster).
    public func schemaViolations() -> [String] {
        violations.all
    }
}
