import KubeKit

/// A failed API request, rendered as a `meta/v1 Status` body with the matching HTTP code, as kube-apiserver does.
struct APIError: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    var details: JSONValue?

    init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    var status: JSONValue {
        var body: [String: JSONValue] = [
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": .object([:]),
            "status": "Failure",
            "message": .string(message),
            "code": .int(Int64(code)),
        ]
        if !reason.isEmpty { body["reason"] = .string(reason) }
        if let details { body["details"] = details }
        return .object(body)
    }

    static func details(name: String?, group: String, kind: String, causes: [JSONValue] = []) -> JSONValue {
        var details: [String: JSONValue] = ["group": .string(group), "kind": .string(kind)]
        if let name { details["name"] = .string(name) }
        if !causes.isEmpty { details["causes"] = .array(causes) }
        return .object(details)
    }

    static func cause(_ reason: String, field: String, message: String) -> JSONValue {
        ["reason": .string(reason), "message": .string(message), "field": .string(field)]
    }

    static func notFound(_ resource: APIResource, name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound",
            message: "\(resource.qualifiedResource) \"\(name)\" not found",
            details: details(name: name, group: resource.group, kind: resource.plural))
    }

    static func alreadyExists(_ resource: APIResource, name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists",
            message: "\(resource.qualifiedResource) \"\(name)\" already exists",
            details: details(name: name, group: resource.group, kind: resource.plural))
    }

    static func conflict(_ resource: APIResource, name: String, detail: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": \(detail)",
            details: details(name: name, group: resource.group, kind: resource.plural))
    }

    /// 422 with one cause per invalid field, e.g. `ConfigMap "x" is invalid: metadata.name: Required value: name is required`.
    static func invalid(_ resource: APIResource, name: String, causes: [(field: String, reason: String, message: String)]) -> APIError {
        // Go's aggregate error: one error alone, several in brackets.
        let joined = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        let text = causes.count == 1 ? joined : "[\(joined)]"
        let rendered = causes.map { cause($0.reason, field: $0.field, message: $0.message) }
        return APIError(
            code: 422, reason: "Invalid",
            message: "\(resource.qualifiedKind) \"\(name)\" is invalid: \(text)",
            details: details(name: name, group: resource.group, kind: resource.kind, causes: rendered))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    static func pathNotFound(_ path: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "the server could not find the requested resource",
            details: ["causes": [["reason": "UnexpectedServerResponse", "message": .string("404 page not found: \(path)")]]])
    }

    static func unsupportedMediaType(_ type: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got \(type))"
        )
    }

    static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
}
