/// A list answer (`StatefulSetList`, `PodList`, a custom resource's list) for typed or JSON items: the items and the
/// list's metadata (its resourceVersion, and the `continue` token when more pages follow).
public struct ObjectList<Item: Codable & Sendable>: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ListMeta?
    public var items: [Item]

    public init(apiVersion: String? = nil, kind: String? = nil, metadata: MetaV1.ListMeta? = nil, items: [Item]) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, items }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(MetaV1.ListMeta.self, forKey: .metadata)
        // An empty list may come as `"items": null`.
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }

    /// The version of the collection this page was read at, to start a watch from.
    public var resourceVersion: String? { metadata?.resourceVersion }
    /// The token for the next page, nil on the last.
    public var continueToken: String? { metadata?.`continue`.flatMap { $0.isEmpty ? nil : $0 } }
}

extension ObjectList: Equatable where Item: Equatable {}
extension ObjectList: Hashable where Item: Hashable {}

extension ObjectList where Item: KubernetesObject {
    /// A list as the API server writes it, with the item kind's `apiVersion` and `<Kind>List`.
    public init(items: [Item], metadata: MetaV1.ListMeta? = nil) {
        self.init(
            apiVersion: Item.descriptor.apiVersion, kind: Item.descriptor.kind + "List", metadata: metadata,
            items: items)
    }
}
