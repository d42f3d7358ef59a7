import KubeKit

/// What a request asks to do, as kube-apiserver's authorizer sees it.
struct AuthorizationAttributes: Sendable {
    var user: UserInfo
    var verb: String
    /// Set for resource requests; nil for non-resource paths such as `/version` or `/apis`.
    var resource: ResourceAttributes?
    var path: String

    struct ResourceAttributes: Sendable {
        var group: String
        var resource: String
        var subresource: String
        var namespace: String
        var name: String

        /// `statefulsets/status`: the form RBAC rules name a subresource in.
        var combined: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }
    }

    init(user: UserInfo, method: String, path: APIPath, rawPath: String, query: QueryParameters, request verb: String) {
        self.user = user
        self.path = rawPath
        self.verb = verb
        guard case .resource(let target) = path else {
            self.verb = method == "HEAD" ? "get" : method.lowercased()
            return
        }
        var name = target.name ?? ""
        // A list or watch narrowed to one name by `metadata.name=` counts as a request for that name, so that
        // rules with resourceNames can allow watching a single object.
        if name.isEmpty, verb == "list" || verb == "watch", let selector = query["fieldSelector"] {
            let terms = selector.split(separator: ",")
            if terms.count == 1, let term = terms.first, term.hasPrefix("metadata.name=") {
                name = String(term.dropFirst("metadata.name=".count))
            }
        }
        resource = ResourceAttributes(
            group: target.group, resource: target.plural, subresource: target.subresource ?? "",
            namespace: target.namespace ?? (target.plural == "namespaces" ? target.name ?? "" : ""), name: name)
    }
}

/// RBAC, evaluated the way kube-apiserver's RBAC authorizer does it over the stored Roles, ClusterRoles,
/// RoleBindings and ClusterRoleBindings.
extension ClusterStore {
    private static let rbacGroup = "rbac.authorization.k8s.io"

    /// Returns when RBAC allows the request; throws 403 Forbidden with the API server's message otherwise.
    func authorize(_ attributes: AuthorizationAttributes) throws(APIError) {
        var missing: [String] = []
        for rules in applicableRules(for: attributes.user, namespace: attributes.resource?.namespace ?? "", missing: &missing) {
            if rules.contains(where: { Self.allows($0, attributes) }) { return }
        }
        throw Self.forbidden(
            attributes, reason: missing.isEmpty ? nil : "RBAC: " + (missing.count == 1 ? missing[0] : "[" + missing.joined(separator: ", ") + "]"))
    }

    /// The rule lists that apply to a user: those of ClusterRoles bound cluster-wide, then, in the request's
    /// namespace, those of the Roles and ClusterRoles bound there. A binding to a role that does not exist adds to
    /// `missing` (the reason the real server gives).
    private func applicableRules(for user: UserInfo, namespace: String, missing: inout [String]) -> [[JSONValue]] {
        var result: [[JSONValue]] = []
        let clusterBindings = objects[StorageKey(group: Self.rbacGroup, plural: "clusterrolebindings")] ?? [:]
        for (_, binding) in clusterBindings.sorted(by: { $0.key < $1.key }) where Self.binds(binding, user, bindingNamespace: "") {
            if let rules = rules(of: binding, bindingNamespace: "", missing: &missing) { result.append(rules) }
        }
        guard !namespace.isEmpty else { return result }
        let bindings = objects[StorageKey(group: Self.rbacGroup, plural: "rolebindings")] ?? [:]
        for (name, binding) in bindings.sorted(by: { $0.key < $1.key })
        where name.namespace == namespace && Self.binds(binding, user, bindingNamespace: namespace) {
            if let rules = rules(of: binding, bindingNamespace: namespace, missing: &missing) { result.append(rules) }
        }
        return result
    }

    private func rules(of binding: JSONValue, bindingNamespace: String, missing: inout [String]) -> [JSONValue]? {
        let roleName = binding["roleRef"]?["name"]?.stringValue ?? ""
        let isClusterRole = binding["roleRef"]?["kind"]?.stringValue == "ClusterRole"
        let key = StorageKey(group: Self.rbacGroup, plural: isClusterRole ? "clusterroles" : "roles")
        let location = ObjectName(namespace: isClusterRole ? "" : bindingNamespace, name: roleName)
        guard let role = objects[key]?[location] else {
            missing.append("\(isClusterRole ? "clusterrole" : "role").\(Self.rbacGroup) \"\(roleName)\" not found")
            return nil
        }
        return role["rules"]?.arrayValue ?? []
    }

    private static func binds(_ binding: JSONValue, _ user: UserInfo, bindingNamespace: String) -> Bool {
        (binding["subjects"]?.arrayValue ?? []).contains { subject in
            let name = subject["name"]?.stringValue ?? ""
            switch subject["kind"]?.stringValue {
            case "User": return name == user.name
            case "Group": return user.groups.contains(name)
            case "ServiceAccount":
                let namespace = subject["namespace"]?.stringValue ?? bindingNamespace
                return !namespace.isEmpty && user.name == "system:serviceaccount:\(namespace):\(name)"
            default: return false
            }
        }
    }

    /// One PolicyRule against a request: verbs, then API groups, resources (with `*/subresource`) and resource
    /// names for resource requests, or non-resource URLs (`/apis/*` matches by prefix) for the others.
    static func allows(_ rule: JSONValue, _ attributes: AuthorizationAttributes) -> Bool {
        func list(_ field: String) -> [String] { (rule[field]?.arrayValue ?? []).compactMap(\.stringValue) }
        let verbs = list("verbs")
        guard verbs.contains("*") || verbs.contains(attributes.verb) else { return false }
        guard let resource = attributes.resource else {
            return list("nonResourceURLs").contains { url in
                url == "*" || url == attributes.path || (url.hasSuffix("*") && attributes.path.hasPrefix(String(url.dropLast())))
            }
        }
        let groups = list("apiGroups")
        guard groups.contains("*") || groups.contains(resource.group) else { return false }
        let resourceMatches = list("resources").contains { ruleResource in
            if ruleResource == "*" || ruleResource == resource.combined { return true }
            return !resource.subresource.isEmpty && ruleResource == "*/\(resource.subresource)"
        }
        guard resourceMatches else { return false }
        let names = list("resourceNames")
        return names.isEmpty || names.contains(resource.name)
    }

    static func forbidden(_ attributes: AuthorizationAttributes, reason: String?) -> APIError {
        let user = attributes.user.name
        guard let resource = attributes.resource else {
            let text = "User \"\(user)\" cannot \(attributes.verb) path \"\(attributes.path)\"" + (reason.map { ": \($0)" } ?? "")
            return APIError(code: 403, reason: "Forbidden", message: "forbidden: \(text)", details: .object([:]))
        }
        let scope = resource.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(resource.namespace)\""
        let text =
            "User \"\(user)\" cannot \(attributes.verb) resource \"\(resource.combined)\" in API group \"\(resource.group)\" \(scope)"
            + (reason.map { ": \($0)" } ?? "")
        let qualified = resource.group.isEmpty ? resource.resource : "\(resource.resource).\(resource.group)"
        let subject = resource.name.isEmpty ? qualified : "\(qualified) \"\(resource.name)\""
        return APIError(
            code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(text)",
            details: APIError.details(name: resource.name.isEmpty ? nil : resource.name, group: resource.group, kind: resource.resource))
    }

    /// The roles and bindings every cluster starts with that matter to clients: `cluster-admin` for
    /// `system:masters`, and discovery and version for everyone who is authenticated (version and health for
    /// everyone at all).
    func bootstrapRBAC() {
        let registry = registrySnapshot()
        guard let roles = registry.resource(group: Self.rbacGroup, version: "v1", plural: "clusterroles"),
            let bindings = registry.resource(group: Self.rbacGroup, version: "v1", plural: "clusterrolebindings")
        else { return }
        let context = WriteContext(manager: "kube-apiserver", dryRun: false)
        let bootstrapLabels: JSONValue = ["kubernetes.io/bootstrapping": "rbac-defaults"]
        let discoveryURLs: JSONValue = [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/",
        ]
        let publicURLs: JSONValue = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
        let defaults: [(name: String, rules: JSONValue, subjects: JSONValue)] = [
            (
                "cluster-admin", [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]], ["nonResourceURLs": ["*"], "verbs": ["*"]]],
                [["apiGroup": .string(Self.rbacGroup), "kind": "Group", "name": "system:masters"]]
            ),
            (
                "system:discovery", [["nonResourceURLs": discoveryURLs, "verbs": ["get"]]],
                [["apiGroup": .string(Self.rbacGroup), "kind": "Group", "name": "system:authenticated"]]
            ),
            (
                "system:public-info-viewer", [["nonResourceURLs": publicURLs, "verbs": ["get"]]],
                [
                    ["apiGroup": .string(Self.rbacGroup), "kind": "Group", "name": "system:authenticated"],
                    ["apiGroup": .string(Self.rbacGroup), "kind": "Group", "name": "system:unauthenticated"],
                ]
            ),
        ]
        for entry in defaults {
            let metadata: JSONValue = ["name": .string(entry.name), "labels": bootstrapLabels]
            let role: JSONValue = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": metadata, "rules": entry.rules]
            let binding: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": metadata,
                "roleRef": ["apiGroup": .string(Self.rbacGroup), "kind": "ClusterRole", "name": .string(entry.name)],
                "subjects": entry.subjects,
            ]
            _ = try? create(roles, namespace: nil, body: role, context: context)
            _ = try? create(bindings, namespace: nil, body: binding, context: context)
        }
    }
}
