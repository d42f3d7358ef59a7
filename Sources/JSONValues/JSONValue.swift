import Foundation

/// Any JSON document, kept losslessly: the type of free-form fields (RawExtension, apiextensions JSON, FieldsV1,
/// `x-kubernetes-preserve-unknown-fields`) and of objects whose kind is only known at run time.
///
/// Integers are kept apart from doubles so that a resourceVersion-sized number or an int64 field survives a round trip.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    /// Tries the kinds in the order they are most common in Kubernetes objects: every failed attempt throws a
    /// DecodingError, and with booleans tried first those errors were a third of the operator's CPU time.
    /// Integers are tried before doubles so that a whole number stays exact.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let object) = self else { return nil }
            return object[key]
        }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value: return Int64(exactly: value)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The value at a path of object keys, such as `["metadata", "name"]`.
    public func value(at path: [String]) -> JSONValue? {
        path.reduce(Optional(self)) { current, key in current?[key] }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Converts between a typed model and its JSON form through Codable, so no field is lost either way.
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONValue.parse(JSONEncoder().encode(value))
    }

    public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: jsonData(sortedKeys: false))
    }
}

extension JSONValue {
    /// The number as a Double, whether it was written as an integer or not.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// How the value reads inside text: strings as they are, integers exactly (a bigint above 2^53 too), other
    /// numbers without a needless `.0`, null as nothing, arrays and objects as canonical JSON.
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .array, .object: canonicalJSON
        }
    }

    /// JSON with sorted keys, so equal values give equal text (and equal content hashes).
    public var canonicalJSON: String {
        String(decoding: jsonBytes(sortedKeys: true), as: UTF8.self)
    }

    /// The value of a JSON text, read directly (see `JSONTextParser`): much faster than `JSONDecoder`, same values.
    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try JSONTextParser.parse($0) }
    }

    /// The value of a JSON text in UTF-8, read directly (see `JSONTextParser`).
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try JSONTextParser.parse($0.bindMemory(to: UInt8.self)) }
    }
}
