import KubeKit

/// One servable resource at one version: what discovery lists and what the handlers need to know about a kind.
struct APIResource: Sendable, Hashable {
    var group: String
    var version: String
    var kind: String
    var plural: String
    var singular: String
    var namespaced: Bool
    var verbs: [String]
    var shortNames: [String]
    var categories: [String]
    /// `status`, `scale`, ... as served under `/{name}/{subresource}`.
    var subresources: Set<String>
    /// The swagger definition of the kind (`io.k8s.api.apps.v1.StatefulSet`), for built-in kinds.
    var definition: String?
    /// The CRD's `openAPIV3Schema` for this version, for custom resources.
    var customSchema: JSONValue?
    /// The CRD version's `additionalPrinterColumns`, for Table output.
    var printerColumns: JSONValue? = nil

    var key: StorageKey { StorageKey(group: group, plural: plural) }
    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var qualifiedResource: String { group.isEmpty ? plural : "\(plural).\(group)" }
    var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
    var hasStatus: Bool { subresources.contains("status") }
    var descriptor: ResourceDescriptor {
        ResourceDescriptor(group: group, version: version, kind: kind, plural: plural, namespaced: namespaced)
    }
}

/// Where objects of a resource are kept: one store per group and plural, whatever version they are served at.
struct StorageKey: Sendable, Hashable, CustomStringConvertible {
    var group: String
    var plural: String
    var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    static let namespaces = StorageKey(group: "", plural: "namespaces")
    static let customResourceDefinitions = StorageKey(group: "apiextensions.k8s.io", plural: "customresourcedefinitions")
}
