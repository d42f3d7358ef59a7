/// The rules of a pipeline's `textTemplate`, the same as `pelican` and `emu` apply to `--text-template`: literal
/// text with `{column}` placeholders, `{{` and `}}` for literal braces, at least one column. A Mustache placeholder
/// (`{{title}}`) would silently embed the literal text "{title}" for every row, so it is refused with the right form.
public enum TextTemplateCheck {
    public static func errors(in template: String, at path: FieldPath) -> [FieldError] {
        if let mustache = mustachePlaceholder(in: template) {
            return [
                FieldError(
                    field: path.description,
                    message: "Invalid value: \"{{\(mustache)}}\" is a Mustache placeholder; a template names a column with single braces",
                    fix: "write {\(mustache)} (and {{ or }} only for a literal brace), e.g. \"{title}\\n\\n{body}\"")
            ]
        }
        var columns = 0
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            let next = template.index(after: index)
            let doubled = next < template.endIndex && template[next] == character
            if (character == "{" || character == "}") && doubled {
                index = template.index(after: next)
                continue
            }
            if character == "}" {
                return [
                    FieldError(
                        field: path.description,
                        message: "Invalid value: the \"}\" at offset \(template.distance(from: template.startIndex, to: index)) closes nothing",
                        fix: "write }} for a literal brace")
                ]
            }
            if character == "{" {
                guard let close = template[next...].firstIndex(of: "}") else {
                    return [
                        FieldError(
                            field: path.description,
                            message: "Invalid value: the \"{\" at offset \(template.distance(from: template.startIndex, to: index)) is never closed",
                            fix: "write {column} for a column, {{ for a literal brace")
                    ]
                }
                let name = String(template[next..<close])
                guard isIdentifier(name) else {
                    return [
                        FieldError(
                            field: path.description,
                            message: "Invalid value: \"{\(name)}\" does not name a column",
                            fix: "use a plain column name: letters, digits, _ and $, starting with a letter or _")
                    ]
                }
                columns += 1
                index = template.index(after: close)
                continue
            }
            index = next
        }
        guard columns > 0 else {
            return [
                FieldError(
                    field: path.description,
                    message: "Invalid value: the template uses no column, so every row would embed the same text",
                    fix: "refer to the columns to embed, e.g. \"{title}\\n\\n{body}\"")
            ]
        }
        return []
    }

    /// The name inside the first `{{name}}` (or `{{ name }}`) whose name is a plain identifier.
    static func mustachePlaceholder(in template: String) -> String? {
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else { return nil }
            let name = after[..<close.lowerBound].trimmingCharacters(in: " ")
            if isIdentifier(name) { return name }
            rest = after
        }
        return nil
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 63, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "$") }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
