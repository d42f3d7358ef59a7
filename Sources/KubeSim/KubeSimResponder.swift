import Foundation
import HTTPTypes
import Hummingbird
import KubeKit
import NIOCore

/// The HTTP front of the API server: authenticates, accounts, routes a request to discovery or to the resource
/// handlers, and renders every failure as a `Status`.
struct KubeSimResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: ClusterStore
    let counter: RequestCounter
    let configuration: KubeSimConfiguration

    static let maxBodySize = 32 * 1024 * 1024

    func respond(to request: Request, context: Context) async throws -> Response {
        try await respond(to: request)
    }

    /// The response; the connection plays no part in it, so the in-process transport calls this directly.
    func respond(to request: Request) async throws -> Response {
        let path = APIPath(path: request.uri.path)
        let query = QueryParameters(request.uri.query)
        let key = Self.accountingKey(request, path: path, query: query)
        await counter.record(key)
        var user = UserInfo.anonymous
        let response: Response
        do {
            user = try await authenticate(request)
            if configuration.rbac, !user.isAdministrator {
                try await store.authorize(
                    AuthorizationAttributes(
                        user: user, method: request.method.rawValue, path: path, rawPath: request.uri.path, query: query, request: key.verb))
            }
            response = try await route(request, path: path, query: query)
        } catch let error as APIError {
            response = Self.json(error.status, status: error.code)
        }
        if key.isWrite {
            await counter.record(
                WriteRecord(
                    userAgent: request.headers[.userAgent] ?? "", user: user.name, key: key, path: request.uri.path,
                    code: response.status.code, completed: .now))
        }
        return response
    }

    /// The user a bearer token names: a configured token, or an issued service-account token. Without configured
    /// tokens, a request with neither is anonymous; with them, it is 401.
    private func authenticate(_ request: Request) async throws(APIError) -> UserInfo {
        let header = request.headers[.authorization] ?? ""
        let token = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : nil
        if let token, let name = configuration.tokens[token] {
            let groups = configuration.administrators.contains(name) ? ["system:masters", "system:authenticated"] : ["system:authenticated"]
            return UserInfo(name: name, groups: groups)
        }
        if let token, let account = await store.serviceAccountUser(token: token) { return account }
        guard configuration.tokens.isEmpty else { throw APIError.unauthorized }
        return .anonymous
    }

    private func route(_ request: Request, path: APIPath, query: QueryParameters) async throws -> Response {
        let registry = await store.registrySnapshot()
        if case .resource(let target) = path {
            return try await ResourceHandler(store: store, configuration: configuration)
                .handle(request, target: target, query: query, registry: registry)
        }
        guard request.method == .get || request.method == .head else { throw APIError.methodNotAllowed() }
        switch path {
        case .version: return Self.json(Discovery.version())
        case .health: return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .openAPIV3Index: return Self.json(OpenAPIV3.index(registry: registry))
        case .openAPIV3(let group, let version):
            guard let document = OpenAPIV3.document(group: group, version: version, registry: registry) else {
                throw APIError.pathNotFound(request.uri.path)
            }
            return Self.json(document)
        case .openAPIV2:
            if let accept = request.headers[.accept], accept.contains("protobuf"), !accept.contains("json") {
                throw APIError(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: application/json")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: Swagger.shared.data)))
        case .coreVersions: return Self.json(Discovery.coreVersions(serverAddress: request.head.authority ?? "127.0.0.1"))
        case .groups: return Self.json(Discovery.groupList(registry: registry))
        case .group(let name):
            guard let group = Discovery.group(name, registry: registry) else { throw APIError.pathNotFound(request.uri.path) }
            return Self.json(group)
        case .resourceList(let group, let version):
            guard let list = Discovery.resourceList(group: group, version: version, registry: registry) else {
                throw APIError.pathNotFound(request.uri.path)
            }
            return Self.json(list)
        case .resource, .unknown:
            throw APIError.pathNotFound(request.uri.path)
        }
    }

    static func accountingKey(_ request: Request, path: APIPath, query: QueryParameters) -> RequestKey {
        guard case .resource(let target) = path else {
            return RequestKey(verb: request.method.rawValue.lowercased(), resource: request.uri.path)
        }
        return RequestKey(verb: ResourceHandler.verb(request.method, target: target, query: query), resource: target.accountingName)
    }

    static func json(_ value: JSONValue, status: Int = 200, warnings: [String] = []) -> Response {
        let data = value.jsonData(sortedKeys: false)
        var response = Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        if !warnings.isEmpty, let name = HTTPField.Name("Warning") {
            // RFC 7234 warn-code 299 with no agent, the text quoted as Go's strconv.Quote does: what client-go prints.
            response.headers[values: name] = warnings.map { "299 - \(GoSyntax.quoted($0))" }
        }
        return response
    }
}

extension APIPath.ResourcePath {
    /// `pods`, `statefulsets.apps`, `pods/status`: the form request accounting uses.
    var accountingName: String {
        let base = group.isEmpty ? plural : "\(plural).\(group)"
        return subresource.map { "\(base)/\($0)" } ?? base
    }
}

extension Request {
    /// The whole request body, or kube-apiserver's 413 when it is larger than the server takes.
    func apiBody() async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: KubeSimResponder.maxBodySize)
        } catch is NIOTooManyBytesError {
            throw APIError(
                code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(KubeSimResponder.maxBodySize)")
        }
    }
}
