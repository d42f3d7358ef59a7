import KubeKit
import VectorBlocksAPI

/// Turns definitions of the reference Kubernetes OpenAPI v2 document (`Sources/KubeSim/Resources/swagger.json`) into
/// structural CRD schemas: every `$ref` inlined (CRD schemas cannot refer), the special types written the way the
/// API server expects them in CRDs, and the swagger-only extensions dropped.
public struct KubernetesSchemaResolver: Sendable {
    public enum ResolutionError: Error, CustomStringConvertible {
        case unknownDefinition(String)
        case recursive([String])

        public var description: String {
            switch self {
            case .unknownDefinition(let name):
                "the OpenAPI document has no definition \(name); regenerate against Sources/KubeSim/Resources/swagger.json"
            case .recursive(let chain):
                "the definition refers to itself (\(chain.joined(separator: " -> "))) and cannot be inlined into a CRD"
            }
        }
    }

    private let definitions: [String: JSONValue]

    /// `document` is the whole swagger document (it has `definitions`).
    public init(document: JSONValue) {
        definitions = document["definitions"]?.objectValue ?? [:]
    }

    public func schema(of definition: String) throws -> JSONValue {
        try resolve(definition, chain: [])
    }

    private func resolve(_ definition: String, chain: [String]) throws -> JSONValue {
        switch definition {
        case "io.k8s.apimachinery.pkg.api.resource.Quantity":
            return [
                "anyOf": [["type": "integer"], ["type": "string"]],
                "pattern": .string(Quantity.pattern),
                "x-kubernetes-int-or-string": true,
            ]
        case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
            return ["x-kubernetes-int-or-string": true]
        case "io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
            return ["type": "string", "format": "date-time"]
        default:
            break
        }
        if chain.contains(definition) { throw ResolutionError.recursive(chain + [definition]) }
        guard let node = definitions[definition] else { throw ResolutionError.unknownDefinition(definition) }
        return try convert(node, chain: chain + [definition])
    }

    private func convert(_ node: JSONValue, chain: [String]) throws -> JSONValue {
        guard let object = node.objectValue else { return node }
        if let reference = object["$ref"]?.stringValue {
            return try resolve(String(reference.dropFirst("#/definitions/".count)), chain: chain)
        }
        // allOf with a single $ref is how swagger attaches a default to a referenced type.
        if let parts = object["allOf"]?.arrayValue, parts.count == 1, let only = parts.first {
            var resolved = try convert(only, chain: chain)
            if let value = object["default"] { resolved["default"] = value }
            return resolved
        }
        var result: [String: JSONValue] = [:]
        for (key, value) in object {
            switch key {
            case "type", "format", "enum", "default", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-int-or-string",
                "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "minimum", "maximum", "pattern":
                result[key] = value
            case "required":
                result[key] = value
            case "x-kubernetes-list-map-keys":
                result[key] = value
            case "properties":
                var properties: [String: JSONValue] = [:]
                for (name, property) in value.objectValue ?? [:] {
                    properties[name] = try convert(property, chain: chain)
                }
                result[key] = .object(properties)
            case "items", "additionalProperties":
                if case .bool = value { result[key] = value } else { result[key] = try convert(value, chain: chain) }
            default:
                // description (stripped anyway), x-kubernetes-patch-*, x-kubernetes-unions, x-kubernetes-group-version-kind:
                // not allowed or meaningless in a CRD schema.
                break
            }
        }
        if result["type"] == nil, result["properties"] != nil { result["type"] = "object" }
        return .object(fixListMapKeys(result))
    }

    /// The API server requires list-map keys to be required or defaulted. Swagger leaves `protocol` of ports optional
    /// (the server defaults it to TCP), so it gets that default; a list whose keys cannot be guaranteed becomes atomic.
    private func fixListMapKeys(_ node: [String: JSONValue]) -> [String: JSONValue] {
        guard node["x-kubernetes-list-type"]?.stringValue == "map", var items = node["items"]?.objectValue else { return node }
        var copy = node
        let keys = node["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let required = Set(items["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var properties = items["properties"]?.objectValue ?? [:]
        var guaranteed = true
        for key in keys where !required.contains(key) && properties[key]?["default"] == nil {
            if key == "protocol", properties[key] != nil {
                properties[key]?["default"] = "TCP"
            } else {
                guaranteed = false
            }
        }
        if guaranteed {
            items["properties"] = .object(properties)
            copy["items"] = .object(items)
        } else {
            copy["x-kubernetes-list-type"] = "atomic"
            copy["x-kubernetes-list-map-keys"] = nil
        }
        return copy
    }
}

extension Schema {
    /// The schema as OpenAPI v3 JSON, with built-in types inlined by `resolver`.
    public func rendered(with resolver: KubernetesSchemaResolver) throws -> JSONValue {
        var node: [String: JSONValue]
        if let kubernetesDefinition {
            node = try resolver.schema(of: kubernetesDefinition).objectValue ?? [:]
        } else {
            node = [:]
        }
        if let type { node["type"] = .string(type) }
        if let format { node["format"] = .string(format) }
        if let description { node["description"] = .string(description) }
        if !properties.isEmpty {
            var rendered: [String: JSONValue] = [:]
            for (name, property) in properties { rendered[name] = try property.rendered(with: resolver) }
            node["properties"] = .object(rendered)
        }
        if !required.isEmpty { node["required"] = .array(required.map(JSONValue.string)) }
        if let element = items.first { node["items"] = try element.rendered(with: resolver) }
        if let value = additionalProperties.first { node["additionalProperties"] = try value.rendered(with: resolver) }
        if !enumValues.isEmpty { node["enum"] = .array(enumValues.map(JSONValue.string)) }
        if let pattern { node["pattern"] = .string(pattern) }
        if let minLength { node["minLength"] = .int(Int64(minLength)) }
        if let maxLength { node["maxLength"] = .int(Int64(maxLength)) }
        if let minimum { node["minimum"] = .int(minimum) }
        if let maximum { node["maximum"] = .int(maximum) }
        if let minItems { node["minItems"] = .int(Int64(minItems)) }
        if let maxItems { node["maxItems"] = .int(Int64(maxItems)) }
        if let defaultValue { node["default"] = defaultValue }
        if let listType { node["x-kubernetes-list-type"] = .string(listType) }
        if !listMapKeys.isEmpty { node["x-kubernetes-list-map-keys"] = .array(listMapKeys.map(JSONValue.string)) }
        if intOrString { node["x-kubernetes-int-or-string"] = true }
        if !anyOf.isEmpty { node["anyOf"] = .array(try anyOf.map { try $0.rendered(with: resolver) }) }
        if !validations.isEmpty {
            node["x-kubernetes-validations"] = .array(validations.map { ["rule": .string($0.rule), "message": .string($0.message)] })
        }
        return .object(node)
    }
}
