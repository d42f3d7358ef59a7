import Foundation
import JSONValues

/// Qdrant's REST API as `../shared/reference/qdrant/openapi.json` states it, for the test double to check every
/// request body it is sent and every answer it gives: the client and the double then cannot agree on something
/// Qdrant does not do. A JSON Schema check of the subset the document uses: `$ref`, `type`, `nullable`,
/// `properties`, `required`, `additionalProperties`, `items`, `enum`, `anyOf`, `oneOf`, `minimum`, `maximum`,
/// `minLength`, `minItems` and the unsigned integer formats. Properties the schema does not name are refused,
/// in requests and answers alike: Qdrant's own answers never carry any, and a request field it does not know is a
/// field the client believes does something.
/// Unchecked: the document is read once in `init` and never changed, so sharing it across tasks is safe.
public final class QdrantOpenAPI: @unchecked Sendable {
    struct Operation: @unchecked Sendable {
        var segments: [String]
        var method: String
        var requestSchema: Any?
        /// Status code ("200", "4XX", "default") → schema of its JSON answer.
        var responseSchemas: [String: Any]
    }

    private let schemas: [String: Any]
    private let operations: [Operation]

    public static let shared: QdrantOpenAPI = {
        let path = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/qdrant/openapi.json")
        guard let data = try? Data(contentsOf: path), let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("\(path.path) cannot be read: the Qdrant double checks itself against it")
        }
        return QdrantOpenAPI(document: document)
    }()

    init(document: [String: Any]) {
        schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        var operations: [Operation] = []
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, body) in item as? [String: Any] ?? [:] {
                guard let operation = body as? [String: Any] else { continue }
                let request = ((operation["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]
                var responses: [String: Any] = [:]
                for (status, response) in operation["responses"] as? [String: Any] ?? [:] {
                    if let schema = (((response as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] {
                        responses[status] = schema
                    }
                }
                operations.append(
                    Operation(
                        segments: path.split(separator: "/").map(String.init), method: method.uppercased(), requestSchema: request?["schema"],
                        responseSchemas: responses))
            }
        }
        self.operations = operations
    }

    /// The operation a request is for; literal segments win over parameters (`/snapshots/upload` over
    /// `/snapshots/{snapshot_name}`).
    func operation(method: String, path: String) -> Operation? {
        let segments = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let candidates = operations.filter { operation in
            operation.method == method && operation.segments.count == segments.count
                && zip(operation.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
        return candidates.max { $0.segments.filter { !$0.hasPrefix("{") }.count < $1.segments.filter { !$0.hasPrefix("{") }.count }
    }

    /// The problems of a request body; an operation that takes no JSON body takes none.
    func checkRequest(_ operation: Operation, body: JSONValue?) -> [String] {
        guard let schema = operation.requestSchema else {
            return body == nil ? [] : ["\(operation.method) /\(operation.segments.joined(separator: "/")) takes no JSON body"]
        }
        guard let body else { return [] }
        return check(body, against: schema, at: "body")
    }

    /// The problems of an answer with this status.
    func checkResponse(_ operation: Operation, status: Int, body: JSONValue) -> [String] {
        let family = "\(status / 100)XX"
        guard let schema = operation.responseSchemas[String(status)] ?? operation.responseSchemas[family] ?? operation.responseSchemas["default"] else {
            return ["\(operation.method) /\(operation.segments.joined(separator: "/")) has no answer \(status) in openapi.json"]
        }
        return check(body, against: schema, at: "answer")
    }

    func check(_ value: JSONValue, against schema: Any, at path: String) -> [String] {
        guard var node = schema as? [String: Any] else { return [] }
        if let reference = node["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = schemas[name] else { return ["\(path): openapi.json has no schema \(name)"] }
            return check(value, against: target, at: path)
        }
        if case .null = value {
            let nullable = Self.flag(node["nullable"]) || (node["anyOf"] as? [Any])?.contains { Self.flag(($0 as? [String: Any])?["nullable"]) } == true
            return nullable || node.isEmpty ? [] : ["\(path): null where the schema allows none"]
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let options = node[keyword] as? [Any] else { continue }
            let outcomes = options.filter { ($0 as? [String: Any])?.keys.sorted() != ["nullable"] }.map { check(value, against: $0, at: path) }
            if outcomes.contains(where: \.isEmpty) {
                node[keyword] = nil
            } else {
                return ["\(path): matches none of the \(keyword) schemas (\(outcomes.map { $0.first ?? "" }.joined(separator: "; ")))"]
            }
        }
        var problems: [String] = []
        if let values = node["enum"] as? [Any], case .string(let text) = value, !values.contains(where: { ($0 as? String) == text }) {
            problems.append("\(path): \"\(text)\" is not one of \(values)")
        }
        switch node["type"] as? String {
        case "object":
            guard case .object(let object) = value else { return ["\(path): \(Self.kind(value)) where an object belongs"] }
            let properties = node["properties"] as? [String: Any] ?? [:]
            for name in node["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(path).\(name): required but missing")
            }
            for (name, field) in object.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    problems += check(field, against: property, at: "\(path).\(name)")
                } else if let additional = node["additionalProperties"] as? [String: Any] {
                    problems += check(field, against: additional, at: "\(path).\(name)")
                } else if !(properties.isEmpty && node["additionalProperties"] == nil), !Self.flag(node["additionalProperties"]) {
                    problems.append("\(path).\(name): not a field of this object in openapi.json")
                }
            }
        case "array":
            guard case .array(let array) = value else { return ["\(path): \(Self.kind(value)) where an array belongs"] }
            if let minimum = node["minItems"] as? Int, array.count < minimum { problems.append("\(path): fewer than \(minimum) items") }
            if let items = node["items"] {
                for (index, element) in array.enumerated() { problems += check(element, against: items, at: "\(path)[\(index)]") }
            }
        case "string":
            guard case .string(let text) = value else { return ["\(path): \(Self.kind(value)) where a string belongs"] }
            if let minimum = node["minLength"] as? Int, text.count < minimum { problems.append("\(path): shorter than \(minimum)") }
        case "integer":
            let number: Double
            switch value {
            case .int(let integer): number = Double(integer)
            case .double(let double) where double.rounded() == double: number = double
            default: return ["\(path): \(Self.kind(value)) where an integer belongs"]
            }
            problems += Self.bounds(number, node, path)
            if (node["format"] as? String)?.hasPrefix("uint") == true, number < 0 { problems.append("\(path): negative, format uint") }
        case "number":
            switch value {
            case .int(let integer): problems += Self.bounds(Double(integer), node, path)
            case .double(let double): problems += Self.bounds(double, node, path)
            default: return ["\(path): \(Self.kind(value)) where a number belongs"]
            }
        case "boolean":
            guard case .bool = value else { return ["\(path): \(Self.kind(value)) where a boolean belongs"] }
        default:
            break
        }
        return problems
    }

    static func bounds(_ number: Double, _ node: [String: Any], _ path: String) -> [String] {
        var problems: [String] = []
        if let minimum = (node["minimum"] as? NSNumber)?.doubleValue, number < minimum { problems.append("\(path): \(number) below \(minimum)") }
        if let maximum = (node["maximum"] as? NSNumber)?.doubleValue, number > maximum { problems.append("\(path): \(number) above \(maximum)") }
        return problems
    }

    static func flag(_ value: Any?) -> Bool {
        (value as? NSNumber)?.boolValue ?? (value as? Bool) ?? false
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
