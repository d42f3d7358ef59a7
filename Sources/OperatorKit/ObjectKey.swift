import KubeKit

/// Names one object: namespace and name, or only a name for cluster-scoped kinds. Work queues carry these.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    /// The key of an object, nil when it has no name (which the API never returns).
    public init?<Object: KubernetesObject>(_ object: Object) {
        guard let name = object.metadata?.name, !name.isEmpty else { return nil }
        self.init(namespace: object.metadata?.namespace, name: name)
    }

    /// `namespace/name`, or `name` for cluster-scoped objects, as client-go writes keys.
    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    /// By namespace, then name, cluster-scoped keys first. No string is built: caches sort thousands of keys per list.
    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        let (left, right) = (lhs.namespace ?? "", rhs.namespace ?? "")
        return left != right ? left < right : lhs.name < rhs.name
    }
}
