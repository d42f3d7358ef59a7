/// A kind served by the API as a resource: it has object metadata and a place in the API (`descriptor`).
///
/// The generated `Resources.swift` makes the built-in kinds conform; the operator's custom resources conform by hand.
public protocol KubernetesObject: Codable, Sendable, Hashable {
    static var descriptor: ResourceDescriptor { get }
    var metadata: MetaV1.ObjectMeta? { get set }
}

extension KubernetesObject {
    /// The object's name; setting it creates metadata when there is none.
    public var name: String? {
        get { metadata?.name }
        set {
            var metadata = self.metadata ?? MetaV1.ObjectMeta()
            metadata.name = newValue
            self.metadata = metadata
        }
    }

    /// The object's namespace (nil for cluster-scoped kinds); setting it creates metadata when there is none.
    public var namespace: String? {
        get { metadata?.namespace }
        set {
            var metadata = self.metadata ?? MetaV1.ObjectMeta()
            metadata.namespace = newValue
            self.metadata = metadata
        }
    }
}

/// The answer to a list request (`StatefulSetList`, `PodList`, …), for any resource kind.
public struct KubernetesList<Item: KubernetesObject>: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ListMeta?
    public var items: [Item]

    public init(
        apiVersion: String? = Item.descriptor.apiVersion, kind: String? = Item.descriptor.kind + "List",
        metadata: MetaV1.ListMeta? = nil, items: [Item]
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.items = items
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, items
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(MetaV1.ListMeta.self, forKey: .metadata)
        // The API sends `"items": null` for an empty list.
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}
