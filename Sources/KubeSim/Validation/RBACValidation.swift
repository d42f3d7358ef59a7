import KubeKit

/// kube-apiserver's RBAC validation: rules that say what they allow, bindings to a role of the right kind in the
/// RBAC group, and subjects of a known kind.
enum RBACValidation {
    static let group = "rbac.authorization.k8s.io"

    static func role(_ object: JSONValue, namespaced: Bool) -> FieldErrors {
        var errors = FieldErrors()
        for (index, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
            errors.append(contentsOf: self.rule(rule, namespaced: namespaced, at: "rules[\(index)]"))
        }
        return errors
    }

    private static func rule(_ rule: JSONValue, namespaced: Bool, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        func list(_ field: String) -> [String] { (rule[field]?.arrayValue ?? []).map { $0.stringValue ?? "" } }
        if list("verbs").isEmpty { errors.required("\(path).verbs", "verbs must contain at least one value") }
        let urls = list("nonResourceURLs")
        if !urls.isEmpty {
            let rendered = "[]string{" + urls.map(GoSyntax.quoted).joined(separator: ", ") + "}"
            if namespaced { errors.invalid("\(path).nonResourceURLs", rendered: rendered, "namespaced rules cannot apply to non-resource URLs") }
            if !list("apiGroups").isEmpty || !list("resources").isEmpty || !list("resourceNames").isEmpty {
                errors.invalid("\(path).nonResourceURLs", rendered: rendered, "rules cannot apply to both regular resources and non-resource URLs")
            }
            return errors
        }
        if rule["apiGroups"]?.arrayValue?.isEmpty ?? true {
            errors.required("\(path).apiGroups", "resource rules must supply at least one api group")
        }
        if list("resources").isEmpty { errors.required("\(path).resources", "resource rules must supply at least one resource") }
        return errors
    }

    static func binding(_ object: JSONValue, namespaced: Bool) -> FieldErrors {
        var errors = FieldErrors()
        let roleRef = object["roleRef"]
        let apiGroup = roleRef?["apiGroup"]?.stringValue ?? ""
        if apiGroup != group { errors.notSupported("roleRef.apiGroup", apiGroup, [group]) }
        let kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"]
        let kind = roleRef?["kind"]?.stringValue ?? ""
        if !kinds.contains(kind) { errors.notSupported("roleRef.kind", kind, kinds) }
        let name = roleRef?["name"]?.stringValue ?? ""
        if name.isEmpty {
            errors.required("roleRef.name")
        } else if let problem = NameValidation.pathSegment(name) {
            errors.invalid("roleRef.name", name, problem)
        }
        for (index, subject) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            errors.append(contentsOf: self.subject(subject, namespaced: namespaced, at: "subjects[\(index)]"))
        }
        return errors
    }

    private static func subject(_ subject: JSONValue, namespaced: Bool, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        let name = subject["name"]?.stringValue ?? ""
        if name.isEmpty { errors.required("\(path).name") }
        let apiGroup = subject["apiGroup"]?.stringValue ?? ""
        switch subject["kind"]?.stringValue ?? "" {
        case "ServiceAccount":
            if !name.isEmpty { errors.invalid("\(path).name", name, each: ValueFormats.dns1123Subdomain(name)) }
            if !apiGroup.isEmpty { errors.notSupported("\(path).apiGroup", apiGroup, [""]) }
            if !namespaced, (subject["namespace"]?.stringValue ?? "").isEmpty { errors.required("\(path).namespace") }
        case "User", "Group":
            // Defaulting fills in the RBAC group when it is left out.
            if !apiGroup.isEmpty, apiGroup != group { errors.notSupported("\(path).apiGroup", apiGroup, [group]) }
        case let kind:
            errors.notSupported("\(path).kind", kind, ["ServiceAccount", "User", "Group"])
        }
        return errors
    }
}
