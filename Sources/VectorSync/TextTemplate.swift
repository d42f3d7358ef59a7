import Foundation

/// The text that is embedded for a row: literal text with `{column}` placeholders, e.g. `{name}: {description}`.
/// `{{` and `}}` stand for literal braces. A NULL column renders as nothing. A Mustache placeholder (`{{title}}`)
/// is refused with the right form, since it would otherwise embed the literal text "{title}" for every row.
public struct TextTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case literal(String)
        case column(String)
    }

    let parts: [Part]

    /// The columns the template reads, in order of first use.
    public var columns: [String] {
        var seen = Set<String>()
        return parts.compactMap { part in
            guard case .column(let name) = part, seen.insert(name).inserted else { return nil }
            return name
        }
    }

    public init(_ text: String, field: String = "textTemplate") throws(ConfigurationError) {
        if let name = Self.mustachePlaceholder(in: text) {
            throw ConfigurationError(
                field: field, problem: "{{\(name)}} is a Mustache placeholder; a template names a column with single braces",
                fix: "write {\(name)} (and {{ or }} only for a literal brace)")
        }
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "{", next < text.endIndex, text[next] == "{" {
                literal.append("{")
                index = text.index(after: next)
            } else if character == "}", next < text.endIndex, text[next] == "}" {
                literal.append("}")
                index = text.index(after: next)
            } else if character == "{" {
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw ConfigurationError(
                        field: field, problem: "the `{` at offset \(text.distance(from: text.startIndex, to: index)) is never closed",
                        fix: "write {column} for a column, {{ for a literal brace")
                }
                let name = String(text[next..<close])
                _ = try SQLIdentifier(name, field: "\(field) placeholder {\(name)}")
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.column(name))
                index = text.index(after: close)
            } else if character == "}" {
                throw ConfigurationError(
                    field: field, problem: "the `}` at offset \(text.distance(from: text.startIndex, to: index)) closes nothing",
                    fix: "write }} for a literal brace")
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard parts.contains(where: { if case .column = $0 { true } else { false } }) else {
            throw ConfigurationError(field: field, problem: "\"\(text)\" names no column", fix: "use {column} placeholders such as \"{name}: {description}\"")
        }
        self.parts = parts
    }

    /// The name inside the first `{{name}}` or `{{ name }}` whose name is a plain identifier.
    static func mustachePlaceholder(in text: String) -> String? {
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else { return nil }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if (try? SQLIdentifier(name, field: "")) != nil { return name }
            rest = after
        }
        return nil
    }

    public func render(_ row: [String: JSONValue]) -> String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .column(let name): row[name]?.text ?? ""
            }
        }.joined()
    }
}
