/// Where a kind lives in the API: its group, version, kind and plural resource name, and whether it is namespaced.
/// This is what the client needs to build a URL, for typed models and for kinds known only at run time (CRDs).
public struct ResourceDescriptor: Sendable, Hashable, Codable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `group/version` otherwise, as in an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` for the core group, `/apis/group/version` otherwise.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// `plural.group`, the form kubectl and RBAC use (`statefulsets.apps`, `pods`).
    public var qualifiedResource: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public var description: String { "\(apiVersion), Kind=\(kind) (\(qualifiedResource))" }
}
