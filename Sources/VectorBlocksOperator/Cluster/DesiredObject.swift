import KubeKit

/// One object the operator wants to exist, as the partial object it applies with server-side apply: only the
/// fields it owns.
public struct DesiredObject: Sendable, Hashable, CustomStringConvertible {
    public var resource: ResourceDescriptor
    public var name: String
    public var namespace: String
    public var body: JSONValue

    public init<Object: KubernetesObject>(_ object: Object) throws {
        resource = Object.descriptor
        name = object.metadata?.name ?? ""
        namespace = object.metadata?.namespace ?? ""
        body = try JSONValue(encoding: object)
    }

    /// `Kind/name`, as KubeBlocks keys per-object messages.
    public var description: String { "\(resource.kind)/\(name)" }
}
