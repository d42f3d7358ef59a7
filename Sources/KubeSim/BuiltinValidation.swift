import Foundation
import KubeKit

/// The `fieldValidation` query parameter: what the server does with fields the schema does not know.
enum FieldValidation: String, Sendable {
    case ignore = "Ignore"
    case warn = "Warn"
    case strict = "Strict"

    /// Parses the parameter; an unknown value is a 422 on the request's options, as kube-apiserver answers it.
    static func parse(_ text: String?, options: String) throws(APIError) -> FieldValidation {
        guard let text, !text.isEmpty else { return .warn }
        guard let value = FieldValidation(rawValue: text) else {
            throw APIError(
                code: 422, reason: "Invalid",
                message:
                    "\(options).meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"\(text)\": supported values: \"Ignore\", \"Warn\", \"Strict\"",
                details: APIError.details(
                    name: "", group: "meta.k8s.io", kind: options,
                    causes: [
                        APIError.cause(
                            "FieldValueNotSupported", field: "fieldValidation",
                            message: "Unsupported value: \"\(text)\": supported values: \"Ignore\", \"Warn\", \"Strict\"")
                    ]))
        }
        return value
    }
}

/// How the body of a write reached the decoder; each way reports a bad body in its own words.
enum DecodedBody {
    /// POST and PUT: the request body itself.
    case body
    /// A JSON or merge patch (the patched object is the bad value) or a strategic merge patch (the patch is).
    case patch(PatchKind, patch: JSONValue)
    /// Server-side apply: the applied configuration, converted to a typed object.
    case apply
}

extension ClusterStore {
    /// Runs `body` on the store and returns what it produced with the warnings the writes inside it raised (the
    /// `Warning: 299` headers of the response). Nothing suspends in between, so the warnings are this request's.
    func collectingWarnings<T: Sendable>(
        _ body: @Sendable (isolated ClusterStore) throws(APIError) -> T
    ) throws(APIError) -> (value: T, warnings: [String]) {
        requestWarnings = []
        defer { requestWarnings = nil }
        let value = try body(self)
        return (value, requestWarnings ?? [])
    }

    func warn(_ text: String) {
        guard requestWarnings != nil, requestWarnings?.contains(text) == false else { return }
        requestWarnings?.append(text)
    }

    /// Decodes a built-in kind's object against its swagger definition: a wrong type rejects the write, unknown
    /// fields reject it (`Strict`), become warnings (`Warn`) or are dropped silently (`Ignore`); they are never
    /// stored. Custom resources are pruned against their CRD schema instead (`admitCustomResource`).
    func decodeBuiltin(_ object: JSONValue, resource: APIResource, context: WriteContext, via source: DecodedBody) throws(APIError) -> JSONValue {
        guard let definition = resource.definition else { return object }
        let result = SwaggerDecoder().decode(object, definition: definition)
        let handledAs = "\(resource.kind) in version \"\(resource.version)\" cannot be handled as a \(resource.kind)"
        switch source {
        case .apply:
            let typeError = result.applyTypeError
            let unknown = result.unknownApplyFields.map { "\($0): field not declared in schema" }
            if let problem = typeError ?? unknown.first {
                let namespace = object.metadataNamespace ?? ""
                let group = resource.group
                throw APIError(
                    code: 500, reason: "",
                    message:
                        "failed to create typed patch object (\(namespace)/\(object.metadataName ?? ""); \(group)/\(resource.version), Kind=\(resource.kind)): \(problem)"
                )
            }
        case .body:
            if let typeError = result.typeError { throw APIError.badRequest("\(handledAs): \(typeError)") }
            if context.fieldValidation == .strict, !result.unknownFields.isEmpty {
                throw APIError.badRequest("\(handledAs): \(Self.strictDecodingError(result.unknownFields))")
            }
        case .patch(let kind, let patch):
            let badValue: String
            if case .strategic = kind {
                badValue = GoSyntax.plusV(patch)
            } else {
                badValue = object.canonicalJSON
            }
            var problem = result.typeError
            if problem == nil, context.fieldValidation == .strict, !result.unknownFields.isEmpty {
                problem = Self.strictDecodingError(result.unknownFields)
            }
            if let problem {
                let message = "Invalid value: \(GoSyntax.quoted(badValue)): \(problem)"
                throw APIError(
                    code: 422, reason: "Invalid", message: " \"\" is invalid: patch: \(message)",
                    details: APIError.details(name: "", group: "", kind: "", causes: [APIError.cause("FieldValueInvalid", field: "patch", message: message)]))
            }
        }
        if context.fieldValidation == .warn {
            for field in result.unknownFields { warn("unknown field \"\(field)\"") }
        }
        return result.object
    }

    private static func strictDecodingError(_ fields: [String]) -> String {
        "strict decoding error: " + fields.map { "unknown field \"\($0)\"" }.joined(separator: ", ")
    }

    /// The checks kube-apiserver's registry strategies make of a built-in object before it is stored: required
    /// values, and on update the fields that may not change. `old` is the stored object on update.
    func admitBuiltin(_ object: JSONValue, old: JSONValue?, resource: APIResource) throws(APIError) -> JSONValue {
        guard resource.definition != nil else { return object }
        var object = object
        if resource.group.isEmpty, resource.plural == "secrets" { Self.prepareSecret(&object) }
        var causes = BuiltinValidation.causes(object, resource: resource)
        if let old { causes = ImmutableFields.causes(old: old, new: object, resource: resource) + causes }
        if !causes.isEmpty {
            throw APIError.invalid(resource, name: object.metadataName ?? "", causes: causes)
        }
        return object
    }

    /// A Secret's type defaults to `Opaque`; `stringData` is write-only: the server merges it into `data`,
    /// base64-encoded, and never stores it.
    private static func prepareSecret(_ secret: inout JSONValue) {
        if secret["type"] == nil { secret["type"] = "Opaque" }
        guard let strings = secret["stringData"]?.objectValue else { return }
        var data = secret["data"]?.objectValue ?? [:]
        for (key, value) in strings {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        secret["data"] = .object(data)
        secret["stringData"] = nil
    }
}
