import Foundation
import Yams

/// Writes manifests as YAML the same way every time, so that generated files can be compared with the generator's
/// output: keys sorted, multi-line strings (scripts, config files) as literal blocks, no line folding.
public enum ManifestYAML {
    /// The documents as one YAML stream, each after `---`, with `header` as a leading comment.
    public static func render(_ documents: [JSONValue], header: String? = nil) throws -> String {
        var text = ""
        if let header {
            text += header.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }.joined(separator: "\n") + "\n"
        }
        for document in documents {
            text += "---\n" + (try Yams.serialize(node: node(for: document), indent: 2, width: -1, allowUnicode: true, sortKeys: true))
        }
        return text
    }

    static func node(for value: JSONValue) -> Node {
        switch value {
        case .null:
            return .scalar(Node.Scalar("null"))
        case .bool(let flag):
            return .scalar(Node.Scalar(flag ? "true" : "false"))
        case .int(let number):
            return .scalar(Node.Scalar(String(number)))
        case .double(let number):
            return .scalar(Node.Scalar(number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)))
        case .string(let string):
            // A literal block keeps a script readable and byte-exact; it cannot carry trailing spaces on a line,
            // which libyaml then writes double-quoted instead.
            if string.contains("\n") { return .scalar(Node.Scalar(string, .implicit, .literal)) }
            return .scalar(string.represented())
        case .array(let elements):
            return .sequence(Node.Sequence(elements.map(node(for:))))
        case .object(let members):
            return .mapping(Node.Mapping(members.sorted { $0.key < $1.key }.map { (Node.scalar($0.key.represented()), node(for: $0.value)) }))
        }
    }

    /// The documents of a YAML stream as JSON values (empty documents skipped).
    public static func parse(_ text: String) throws -> [JSONValue] {
        var documents: [JSONValue] = []
        for document in try Yams.load_all(yaml: text) where !(document is NSNull) {
            documents.append(try json(from: document))
        }
        return documents
    }

    private static func json(from value: Any) throws -> JSONValue {
        switch value {
        case let string as String: return .string(string)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let array as [Any]: return .array(try array.map(json(from:)))
        case let dictionary as [String: Any]: return .object(try dictionary.mapValues(json(from:)))
        case let dictionary as [AnyHashable: Any]:
            return .object(Dictionary(uniqueKeysWithValues: try dictionary.map { ("\($0.key)", try json(from: $0.value)) }))
        case is NSNull: return .null
        default: throw YamlError.representer(problem: "unexpected YAML value \(value)")
        }
    }
}
