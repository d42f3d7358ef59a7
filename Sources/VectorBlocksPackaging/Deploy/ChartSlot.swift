import KubeKit
import VectorBlocksAPI

/// A field of a chart template that Helm fills from the chart's values but that a typed model cannot hold as a
/// template string: a number, a block of YAML, a key that is present only when its value is set.
///
/// The object is built with concrete values, `place(in:at:)` puts the slot's placeholder in the field, and
/// `fill(_:)` replaces the placeholder's line of the rendered YAML with the template text. Rendered with the
/// chart's default values, that text gives back what the plain manifests hold in the field.
struct ChartSlot: Sendable, Hashable {
    enum Template: Sendable, Hashable {
        /// `key: {{ expression }}`: a number or a boolean.
        case scalar(String)
        /// `key:` and the value of the expression as YAML below it.
        case block(String)
        /// As `block`, and no key at all when the value is empty.
        case optionalBlock(String)
    }

    enum PathStep: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    enum FillError: Error, CustomStringConvertible {
        case missingField(path: [PathStep])
        case placeholderCount(placeholder: String, found: Int)
        case listItem(placeholder: String)

        var description: String {
            switch self {
            case .missingField(let path):
                "the chart slot's field \(path.map { step in if case .key(let key) = step { key } else { "\(step)" } }.joined(separator: ".")) is not in the object; the slot's path must name a field the object has or an object that can hold it"
            case .placeholderCount(let placeholder, let found):
                "the placeholder \(placeholder) is \(found) times in the rendered YAML instead of once as a mapping value; every slot must be placed exactly once"
            case .listItem(let placeholder):
                "the placeholder \(placeholder) is the first key of a list item; a slot must be a field after the item's first"
            }
        }
    }

    /// A word YAML writes unquoted, so it stands alone after `key: ` on its line.
    let placeholder: String
    let template: Template

    init(_ name: String, _ template: Template) {
        placeholder = "vectorblocks-chart-slot-\(name)"
        self.template = template
    }

    /// `document` with the placeholder at `path`; every step but the last must exist.
    func place(in document: JSONValue, at path: [PathStep]) throws -> JSONValue {
        guard let placed = Self.setting(.string(placeholder), at: path[...], in: document) else {
            throw FillError.missingField(path: path)
        }
        return placed
    }

    private static func setting(_ value: JSONValue, at path: ArraySlice<PathStep>, in node: JSONValue) -> JSONValue? {
        guard let step = path.first else { return value }
        switch (step, node) {
        case (.key(let key), .object(var members)):
            if path.count > 1 && members[key] == nil { return nil }
            guard let child = setting(value, at: path.dropFirst(), in: members[key] ?? .null) else { return nil }
            members[key] = child
            return .object(members)
        case (.index(let index), .array(var elements)) where elements.indices.contains(index):
            guard let child = setting(value, at: path.dropFirst(), in: elements[index]) else { return nil }
            elements[index] = child
            return .array(elements)
        default:
            return nil
        }
    }

    /// `yaml` with each slot's placeholder line `<indent><key>: <placeholder>` replaced by its template text.
    static func fill(_ yaml: String, slots: [ChartSlot]) throws -> String {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for slot in slots {
            let suffix = ": \(slot.placeholder)"
            let matches = lines.indices.filter { lines[$0].hasSuffix(suffix) }
            let mentions = lines.filter { $0.contains(slot.placeholder) }.count
            guard matches.count == 1, mentions == 1, let index = matches.first else {
                throw FillError.placeholderCount(placeholder: slot.placeholder, found: mentions)
            }
            let line = lines[index]
            let indent = String(line.prefix { $0 == " " })
            let key = String(line.dropFirst(indent.count).dropLast(suffix.count))
            guard !key.hasPrefix("- ") else { throw FillError.listItem(placeholder: slot.placeholder) }
            lines[index] = slot.text(key: key, indent: indent)
        }
        return lines.joined(separator: "\n")
    }

    /// The template text at `indent`; `{{-` eats the space before it, and `nindent` starts the block on a new line
    /// one level deeper than the key.
    private func text(key: String, indent: String) -> String {
        let nested = indent.count + 2
        switch template {
        case .scalar(let expression):
            return "\(indent)\(key): {{ \(expression) }}"
        case .block(let expression):
            return "\(indent)\(key): {{- toYaml \(expression) | nindent \(nested) }}"
        case .optionalBlock(let expression):
            return """
                \(indent){{- with \(expression) }}
                \(indent)\(key): {{- toYaml . | nindent \(nested) }}
                \(indent){{- end }}
                """
        }
    }
}
