import Foundation

/// A patch body and the content type that says how the server applies it.
public enum Patch: Sendable, Hashable {
    /// RFC 7386: objects merge, `null` deletes a key, lists are replaced whole.
    case merge(JSONValue)
    /// RFC 6902 operations, applied in order; a failed `test` rejects the whole patch.
    case json([JSONPatchOperation])
    /// Kubernetes' strategic merge: lists with a merge key (containers by name, ...) merge item by item.
    case strategicMerge(JSONValue)

    var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        }
    }

    func body() -> Data {
        switch self {
        case .merge(let value), .strategicMerge(let value): return value.jsonData()
        case .json(let operations): return JSONValue.array(operations.map(\.json)).jsonData()
        }
    }
}

/// One RFC 6902 operation. Paths are JSON pointers such as `/spec/replicas` or `/metadata/labels/app~1name`.
public struct JSONPatchOperation: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case add, remove, replace, move, copy, test
    }

    public var op: Operation
    public var path: String
    public var value: JSONValue?
    public var from: String?

    public init(op: Operation, path: String, value: JSONValue? = nil, from: String? = nil) {
        self.op = op
        self.path = path
        self.value = value
        self.from = from
    }

    public static func add(_ path: String, _ value: JSONValue) -> Self { .init(op: .add, path: path, value: value) }
    public static func replace(_ path: String, _ value: JSONValue) -> Self {
        .init(op: .replace, path: path, value: value)
    }
    public static func remove(_ path: String) -> Self { .init(op: .remove, path: path) }
    public static func test(_ path: String, _ value: JSONValue) -> Self { .init(op: .test, path: path, value: value) }
    public static func move(from: String, to path: String) -> Self { .init(op: .move, path: path, from: from) }
    public static func copy(from: String, to path: String) -> Self { .init(op: .copy, path: path, from: from) }

    var json: JSONValue {
        var object: [String: JSONValue] = ["op": .string(op.rawValue), "path": .string(path)]
        if let value { object["value"] = value }
        if let from { object["from"] = .string(from) }
        return .object(object)
    }
}
