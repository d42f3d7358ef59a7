import Mustache

/// Renders a configSpec's or scriptSpec's ConfigMap with the component's variables (DESIGN §2). Templates are
/// configuration and shell, not HTML, so values are inserted as they are.
enum TemplateRenderer {
    struct Failure: Error, CustomStringConvertible {
        var key: String
        var reason: String
        var description: String { "key \"\(key)\": \(reason)" }
    }

    static func render(_ data: [String: String], variables: [String: String]) throws -> [String: String] {
        var rendered: [String: String] = [:]
        for (key, text) in data {
            // Text without tags is copied as it is, so a script's own braces can never be misread.
            guard text.contains("{{") else {
                rendered[key] = text
                continue
            }
            do {
                let template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
                rendered[key] = template.render(variables)
            } catch {
                throw Failure(key: key, reason: "not a valid Mustache template: \(error)")
            }
        }
        return rendered
    }
}
