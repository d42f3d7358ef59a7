import Foundation
import Hummingbird
import KubeKit
import NIOCore

/// Serves `/api/v1/...` and `/apis/{group}/{version}/...` resource requests: reads, lists, watches and writes.
struct ResourceHandler: Sendable {
    let store: ClusterStore
    let configuration: KubeSimConfiguration

    static func verb(_ method: HTTPRequest.Method, target: APIPath.ResourcePath, query: QueryParameters) -> String {
        switch method {
        case .get, .head:
            if target.legacyWatch || query.bool("watch") { return "watch" }
            return target.name == nil ? "list" : "get"
        case .post: return "create"
        case .put: return "update"
        case .patch: return "patch"
        case .delete: return target.name == nil ? "deletecollection" : "delete"
        default: return method.rawValue.lowercased()
        }
    }

    func handle(_ request: Request, target: APIPath.ResourcePath, query: QueryParameters, registry: ResourceRegistry) async throws -> Response {
        guard let resource = registry.resource(group: target.group, version: target.version, plural: target.plural) else {
            throw APIError.pathNotFound(request.uri.path)
        }
        if target.namespace != nil, !resource.namespaced { throw APIError.pathNotFound(request.uri.path) }
        if let subresource = target.subresource, !resource.subresources.contains(subresource) {
            throw APIError.pathNotFound(request.uri.path)
        }
        let namespace = resource.namespaced ? target.namespace : nil
        let verb = Self.verb(request.method, target: target, query: query)
        if target.subresource == "token", let namespace {
            return try await TokenRequestHandler(store: store).handle(request, namespace: namespace, name: target.name ?? "", verb: verb)
        }
        if target.subresource == "log", let namespace {
            return try await PodLogHandler(store: store).handle(namespace: namespace, name: target.name ?? "", query: query)
        }
        if target.subresource == "scale" {
            return try await ScaleHandler(store: store).handle(
                request, resource: resource, namespace: namespace, name: target.name ?? "", verb: verb, query: query)
        }
        switch verb {
        case "get":
            guard let name = target.name else { throw APIError.methodNotAllowed() }
            let object = try await store.get(resource, namespace: namespace, name: name)
            if TableConverter.wantsTable(accept: request.headers[.accept]) {
                return KubeSimResponder.json(TableConverter(resource: resource).table(for: [object], resourceVersion: object.resourceVersionString))
            }
            return negotiated(object, request)
        case "list":
            let list = try await store.list(
                resource, namespace: namespace, labels: try labels(query), fields: try fields(query, resource),
                limit: query.int("limit"), continueToken: query["continue"])
            if TableConverter.wantsTable(accept: request.headers[.accept]) {
                var table = TableConverter(resource: resource).table(
                    for: list["items"]?.arrayValue ?? [], resourceVersion: list["metadata"]?["resourceVersion"]?.stringValue)
                table["metadata"]?["continue"] = list["metadata"]?["continue"]
                return KubeSimResponder.json(table)
            }
            return negotiated(list, request)
        case "watch":
            let table = TableConverter.wantsTable(accept: request.headers[.accept]) ? TableConverter(resource: resource) : nil
            return try await watch(resource, namespace: namespace, target: target, query: query, table: table)
        case "create":
            guard target.name == nil, target.subresource == nil else { throw APIError.methodNotAllowed() }
            let body = try await decodeBody(request, allowYAML: false)
            let context = try writeContext(request, query, options: "CreateOptions")
            let (created, warnings) = try await store.collectingWarnings { store throws(APIError) in
                try store.create(resource, namespace: namespace, body: body, context: context)
            }
            return negotiated(created, request, status: 201, warnings: warnings)
        case "update":
            guard let name = target.name else { throw APIError.methodNotAllowed() }
            let body = try await decodeBody(request, allowYAML: false)
            let context = try writeContext(request, query, options: "UpdateOptions")
            let subresource = target.subresource
            let (updated, warnings) = try await store.collectingWarnings { store throws(APIError) in
                try store.update(resource, namespace: namespace, name: name, body: body, subresource: subresource, context: context)
            }
            return negotiated(updated, request, warnings: warnings)
        case "patch":
            guard let name = target.name else { throw APIError.methodNotAllowed() }
            let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let kind: PatchKind
            switch contentType {
            case "application/merge-patch+json": kind = .merge
            case "application/json-patch+json": kind = .json
            case "application/apply-patch+yaml", "application/apply-patch+json", "application/apply-patch+cbor": kind = .apply(force: query.bool("force"))
            case "application/strategic-merge-patch+json": kind = .strategic
            default: throw APIError.unsupportedMediaType(contentType)
            }
            if case .apply = kind {
            } else if query["force"] != nil {
                throw APIError.badRequest("force is only allowed for apply patches")
            }
            let isApply: Bool = if case .apply = kind { true } else { false }
            let body = try await decodeBody(request, allowYAML: isApply)
            var context = try writeContext(request, query, options: "PatchOptions")
            if isApply { context.manager = query["fieldManager"] ?? "" }
            let patchContext = context
            let subresource = target.subresource
            let ((object, created), warnings) = try await store.collectingWarnings { store throws(APIError) in
                try store.patch(resource, namespace: namespace, name: name, patch: body, kind: kind, subresource: subresource, context: patchContext)
            }
            return negotiated(object, request, status: created ? 201 : 200, warnings: warnings)
        case "delete":
            guard let name = target.name, target.subresource == nil else { throw APIError.methodNotAllowed() }
            let options = try await deleteOptions(request, query)
            let result = try await store.delete(resource, namespace: namespace, name: name, options: options)
            // Like kube-apiserver: 202 when a cascading (foreground) deletion is still pending, 200 otherwise.
            let pending = result.isBeingDeleted && options.propagation == .foreground && !options.dryRun
            return KubeSimResponder.json(result, status: pending ? 202 : 200)
        case "deletecollection":
            let options = try await deleteOptions(request, query)
            let result = try await store.deleteCollection(
                resource, namespace: namespace, labels: try labels(query),
                fields: try fields(query, resource), options: options)
            return KubeSimResponder.json(result)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    // MARK: Watch

    private func watch(
        _ resource: APIResource, namespace: String?, target: APIPath.ResourcePath, query: QueryParameters, table: TableConverter?
    ) async throws -> Response {
        var fieldSelector = try fields(query, resource)
        if let name = target.name {
            fieldSelector.requirements.append(.init(path: ["metadata", "name"], value: name, negated: false))
        }
        let (id, events) = try await store.watch(
            resource, namespace: namespace, labels: try labels(query), fields: fieldSelector,
            resourceVersion: query["resourceVersion"], backlogLimit: min(configuration.watchBacklogLimit, configuration.watchHistoryLimit))
        let timeout: Duration = .seconds(query.int("timeoutSeconds").map { max(0, $0) } ?? 1800)
        let bookmarkInterval = query.bool("allowWatchBookmarks") ? configuration.bookmarkInterval : nil
        let store = self.store
        let body = ResponseBody { writer in
            let timer = Task {
                try? await Task.sleep(for: timeout)
                await store.stopWatch(id)
            }
            let bookmarks = Task {
                guard let bookmarkInterval else { return }
                while !Task.isCancelled {
                    try? await Task.sleep(for: bookmarkInterval)
                    if Task.isCancelled { break }
                    await store.bookmark(id)
                }
            }
            do {
                var sentColumns = false
                // Everything that waits goes out in one write: a reader that fell behind catches up in one step.
                while let batch = await events.take() {
                    var lines: [ByteBuffer] = []
                    lines.reserveCapacity(batch.count)
                    for event in batch {
                        if let table, event.type != "ERROR", event.type != "BOOKMARK" {
                            let object = table.table(
                                for: [event.object], resourceVersion: event.object.resourceVersionString, includeColumns: !sentColumns)
                            sentColumns = true
                            lines.append(WatchEvent.line(type: event.type, object: object))
                        } else {
                            lines.append(event.line ?? WatchEvent.line(type: event.type, object: event.object))
                        }
                    }
                    try await writer.write(contentsOf: lines)
                }
            } catch {
                // The client went away; fall through to clean up.
            }
            timer.cancel()
            bookmarks.cancel()
            await store.stopWatch(id)
            try? await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }

    // MARK: Request parts

    private func labels(_ query: QueryParameters) throws(APIError) -> LabelSelector {
        guard let text = query["labelSelector"], !text.isEmpty else { return .everything }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            throw APIError.badRequest("\(error)")
        }
    }

    private func fields(_ query: QueryParameters, _ resource: APIResource) throws(APIError) -> FieldSelector {
        guard let text = query["fieldSelector"], !text.isEmpty else { return .everything }
        return try FieldSelector(parsing: text, resource: resource)
    }

    private func decodeBody(_ request: Request, allowYAML: Bool) async throws -> JSONValue {
        let contentType = request.headers[.contentType] ?? ""
        if contentType.contains("cbor") { throw APIError.unsupportedMediaType(contentType) }
        let buffer = try await request.apiBody()
        if buffer.readableBytes == 0 { throw APIError.badRequest("the request body is empty") }
        if contentType.hasPrefix(ProtobufEnvelope.mediaType) { return try ProtobufEnvelope.decode(Array(buffer.readableBytesView)) }
        return try RequestBodyDecoder.decode(Data(buffer.readableBytesView), allowYAML: allowYAML)
    }

    /// JSON, or protobuf when the client asks for it first and the kind has a protobuf form (custom resources do not).
    private func negotiated(_ value: JSONValue, _ request: Request, status: Int = 200, warnings: [String] = []) -> Response {
        guard ProtobufEnvelope.isPreferred(accept: request.headers[.accept]), let bytes = ProtobufEnvelope.encode(value) else {
            return KubeSimResponder.json(value, status: status, warnings: warnings)
        }
        var response = KubeSimResponder.json(value, status: status, warnings: warnings)
        response.headers[.contentType] = ProtobufEnvelope.mediaType
        response.body = .init(byteBuffer: ByteBuffer(bytes: bytes))
        return response
    }

    private func writeContext(_ request: Request, _ query: QueryParameters, options: String) throws(APIError) -> WriteContext {
        if let dryRun = query["dryRun"], !dryRun.isEmpty, dryRun != "All" {
            throw APIError.badRequest("dryRun: Unsupported value: \"\(dryRun)\": supported values: \"All\"")
        }
        let manager = query["fieldManager"] ?? Self.defaultManager(userAgent: request.headers[.userAgent])
        if manager.count > 128 {
            throw APIError(code: 422, reason: "Invalid", message: "fieldManager: Too long: may not be longer than 128")
        }
        return WriteContext(
            manager: manager, dryRun: query["dryRun"] == "All",
            fieldValidation: try FieldValidation.parse(query["fieldValidation"], options: options))
    }

    /// The real server's default field manager: the User-Agent up to its first `/`.
    static func defaultManager(userAgent: String?) -> String {
        guard let userAgent, !userAgent.isEmpty else { return "unknown" }
        return String(userAgent.prefix { $0 != "/" }.prefix(128))
    }

    private func deleteOptions(_ request: Request, _ query: QueryParameters) async throws -> DeleteOptions {
        var options = DeleteOptions()
        let buffer = try await request.apiBody()
        if buffer.readableBytes > 0 {
            let body = try RequestBodyDecoder.decode(Data(buffer.readableBytesView), allowYAML: false)
            if let policy = body["propagationPolicy"]?.stringValue { options.propagation = try propagation(policy) }
            if body["orphanDependents"]?.boolValue == true, options.propagation == nil { options.propagation = .orphan }
            options.preconditionUID = body["preconditions"]?["uid"]?.stringValue
            options.preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            if let dryRun = body["dryRun"]?.arrayValue, dryRun.contains("All") { options.dryRun = true }
        }
        if let policy = query["propagationPolicy"] { options.propagation = try propagation(policy) }
        if query["orphanDependents"] == "true", options.propagation == nil { options.propagation = .orphan }
        if let grace = query.int("gracePeriodSeconds") { options.gracePeriodSeconds = Int64(grace) }
        if query["dryRun"] == "All" { options.dryRun = true }
        return options
    }

    private func propagation(_ text: String) throws(APIError) -> DeleteOptions.Propagation {
        guard let policy = DeleteOptions.Propagation(rawValue: text) else {
            throw APIError(
                code: 422, reason: "Invalid",
                message: "propagationPolicy: Unsupported value: \"\(text)\": supported values: \"Foreground\", \"Background\", \"Orphan\"")
        }
        return policy
    }
}
