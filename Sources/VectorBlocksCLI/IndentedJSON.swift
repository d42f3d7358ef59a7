import Foundation
import KubeKit

/// JSON as `kubectl -o json` writes it (Go's `json.MarshalIndent` with four spaces): `"key": value`, `{}` and `[]`
/// when empty, keys sorted so the same object always prints the same.
enum IndentedJSON {
    static func render(_ value: JSONValue) throws -> String {
        var text = ""
        try write(value, indent: "", into: &text)
        return text + "\n"
    }

    private static func write(_ value: JSONValue, indent: String, into text: inout String) throws {
        let inner = indent + "    "
        switch value {
        case .object(let fields) where fields.isEmpty: text += "{}"
        case .array(let items) where items.isEmpty: text += "[]"
        case .object(let fields):
            text += "{\n"
            for (position, key) in fields.keys.sorted().enumerated() {
                text += inner + (try scalar(.string(key))) + ": "
                try write(fields[key] ?? .null, indent: inner, into: &text)
                text += position == fields.count - 1 ? "\n" : ",\n"
            }
            text += indent + "}"
        case .array(let items):
            text += "[\n"
            for (position, item) in items.enumerated() {
                text += inner
                try write(item, indent: inner, into: &text)
                text += position == items.count - 1 ? "\n" : ",\n"
            }
            text += indent + "]"
        default:
            text += try scalar(value)
        }
    }

    private static func scalar(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
