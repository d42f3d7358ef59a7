/// A page of a list answer: the items and the list's metadata (its resourceVersion, and the `continue` token when
/// more pages follow).
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
