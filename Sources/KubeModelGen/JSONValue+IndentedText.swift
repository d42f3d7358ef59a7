import Foundation
import JSONValues

extension JSONValue {
    /// The document with sorted keys, one member per line and one space of indentation per level, ASCII only.
    ///
    /// This is the layout of Python's `json.dump(indent=1, sort_keys=True)`, in which the repository's OpenAPI copy
    /// was first made: regenerating the copy changes no line, and one space keeps the 2 MB file small while diffs
    /// stay readable. (Foundation's pretty printer indents by two and writes `" : "`.)
    public var indentedText: String {
        var output = ""
        write(to: &output, indent: 0)
        return output
    }

    private func write(to output: inout String, indent: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value): output += String(value)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            guard !elements.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (index, element) in elements.enumerated() {
                output += (index == 0 ? "\n" : ",\n") + String(repeating: " ", count: indent + 1)
                element.write(to: &output, indent: indent + 1)
            }
            output += "\n" + String(repeating: " ", count: indent) + "]"
        case .object(let members):
            guard !members.isEmpty else {
                output += "{}"
                return
            }
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                output += (index == 0 ? "\n" : ",\n") + String(repeating: " ", count: indent + 1)
                Self.writeString(key, to: &output)
                output += ": "
                members[key]?.write(to: &output, indent: indent + 1)
            }
            output += "\n" + String(repeating: " ", count: indent) + "}"
        }
    }

    /// A JSON string literal; everything outside printable ASCII is escaped (`\u00e9`, surrogate pairs above the BMP).
    private static func writeString(_ value: String, to output: inout String) {
        output += "\""
        for unit in value.utf16 {
            switch unit {
            case 0x22: output += "\\\""
            case 0x5C: output += "\\\\"
            case 0x0A: output += "\\n"
            case 0x0D: output += "\\r"
            case 0x09: output += "\\t"
            case 0x08: output += "\\b"
            case 0x0C: output += "\\f"
            case 0x20..<0x7F: output.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        output += "\""
    }
}
