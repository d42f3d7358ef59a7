import Foundation
import KubeKit

extension LabelSelector {
    /// Whether an object's `metadata.labels` satisfy the selector (KubeKit's selector, shared with the operator's
    /// caches, so client and server agree on what a selector means).
    func matches(_ object: JSONValue) -> Bool {
        if isEverything { return true }
        return matches((object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
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
        case ("", "pods"):
            fields.formUnion([
                "status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP",
                "status.nominatedNodeName", "spec.hostNetwork",
            ])
        case ("", "events"):
            fields.formUnion([
                "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
                "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
            ])
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
            requirements.append(
                Requirement(path: field.split(separator: ".").map(String.init), value: parts[1].trimmingCharacters(in: .whitespaces), negated: negated))
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
