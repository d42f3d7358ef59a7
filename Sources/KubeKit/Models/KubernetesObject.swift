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
