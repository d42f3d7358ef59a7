import Foundation
import KubeKit

/// A parsed `labelSelector`: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND).
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }

    var requirements: [Requirement]

    static let everything = LabelSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    init(parsing text: String) throws(APIError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let clause = term.trimmingCharacters(in: .whitespaces)
            if clause.isEmpty { continue }
            if let range = clause.range(of: " notin ") ?? clause.range(of: " in ") {
                let key = clause[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let isNotIn = clause[range].contains("notin")
                let list = clause[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")"), !key.isEmpty else {
                    throw APIError.badRequest("unable to parse requirement: found '\(list)', expected: '('")
                }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                requirements.append(isNotIn ? .notIn(key, values) : .isIn(key, values))
            } else if let range = clause.range(of: "!=") {
                requirements.append(.notEquals(Self.trim(clause[..<range.lowerBound]), Self.trim(clause[range.upperBound...])))
            } else if let range = clause.range(of: "==") ?? clause.range(of: "=") {
                requirements.append(.equals(Self.trim(clause[..<range.lowerBound]), Self.trim(clause[range.upperBound...])))
            } else if clause.hasPrefix("!") {
                requirements.append(.doesNotExist(Self.trim(clause.dropFirst())))
            } else {
                guard !clause.contains(" ") else { throw APIError.badRequest("unable to parse requirement: \(clause)") }
                requirements.append(.exists(clause))
            }
        }
        self.requirements = requirements
    }

    private static func trim(_ text: Substring) -> String { text.trimmingCharacters(in: .whitespaces) }

    /// Splits on commas outside parentheses.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    func matches(_ object: JSONValue) -> Bool {
        if requirements.isEmpty { return true }
        let labels = (object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return requirements.allSatisfy { $0.matches(labels) }
    }
}

/// A parsed `fieldSelector`: `metadata.name`, `metadata.namespace` for every kind, plus the few per-kind fields the
/// real server indexes (`status.phase`, `spec.nodeName` for pods, ...). Anything else is a 400.
struct FieldSelector: Sendable {
    struct Requirement: Sendable {
        var path: [String]
        var value: String
        var negated: Bool
    }

    var requirements: [Requirement]

    static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    static func supportedFields(for resource: APIResource) -> Set<String> {
        var fields: Set<String> = ["metadata.name", "metadata.namespace"]
        switch (resource.group, resource.plural) {
        case ("", "pods"): fields.formUnion(["status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName", "spec.hostNetwork"])
        case ("", "events"): fields.formUnion(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"])
        case ("", "secrets"): fields.insert("type")
        case ("", "namespaces"): fields.insert("status.phase")
        case ("", "nodes"): fields.insert("spec.unschedulable")
        case ("", "replicationcontrollers"): fields.insert("status.replicas")
        case ("batch", "jobs"): fields.insert("status.successful")
        default: break
        }
        return fields
    }

    init(parsing text: String, resource: APIResource) throws(APIError) {
        let supported = Self.supportedFields(for: resource)
        var requirements: [Requirement] = []
        for term in text.split(separator: ",") {
            let clause = term.trimmingCharacters(in: .whitespaces)
            if clause.isEmpty { continue }
            let negated: Bool
            let parts: [String]
            if let range = clause.range(of: "!=") {
                negated = true
                parts = [String(clause[..<range.lowerBound]), String(clause[range.upperBound...])]
            } else if let range = clause.range(of: "==") ?? clause.range(of: "=") {
                negated = false
                parts = [String(clause[..<range.lowerBound]), String(clause[range.upperBound...])]
            } else {
                throw APIError.badRequest("invalid selector: '\(clause)'; can't understand '\(clause)'")
            }
            let field = parts[0].trimmingCharacters(in: .whitespaces)
            guard supported.contains(field) else {
                throw APIError.badRequest("field label not supported: \(field)")
            }
            requirements.append(Requirement(path: field.split(separator: ".").map(String.init), value: parts[1].trimmingCharacters(in: .whitespaces), negated: negated))
        }
        self.requirements = requirements
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let actual: String
            switch object.value(at: requirement.path) {
            case .string(let text)?: actual = text
            case .bool(let flag)?: actual = flag ? "true" : "false"
            case .int(let number)?: actual = String(number)
            default: actual = ""
            }
            return (actual == requirement.value) != requirement.negated
        }
    }
}
