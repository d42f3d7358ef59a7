import KubeKit

/// An informer's local copy of one kind's objects, indexed by key, namespace, owner uid and label, so reconcilers read
/// from memory instead of the API server.
public actor ObjectCache<Object: KubernetesObject> {
    private var objects: [ObjectKey: Object] = [:]
    private var byNamespace: [String: Set<ObjectKey>] = [:]
    private var byOwner: [String: Set<ObjectKey>] = [:]
    private var byLabel: [String: Set<ObjectKey>] = [:]

    public init() {}

    public func get(name: String, namespace: String? = nil) -> Object? {
        objects[ObjectKey(namespace: namespace, name: name)]
    }

    public func get(_ key: ObjectKey) -> Object? { objects[key] }

    /// Objects in a namespace (nil: all) that match a label selector, in key order.
    public func list(namespace: String? = nil, selector: LabelSelector = .everything) -> [Object] {
        var candidates: Set<ObjectKey>?
        if let namespace { candidates = byNamespace[namespace] ?? [] }
        // Narrow by the first equality requirement through the label index; the rest is filtered below.
        for requirement in selector.requirements {
            if case .equals(let key, let value) = requirement {
                let labelled = byLabel[Self.labelIndexKey(key, value)] ?? []
                candidates = candidates.map { $0.intersection(labelled) } ?? labelled
                break
            }
        }
        let keys = candidates.map { Array($0) } ?? Array(objects.keys)
        return keys.sorted().compactMap { key in
            guard let object = objects[key], selector.matches(object.metadata?.labels) else { return nil }
            return object
        }
    }

    /// How many objects in a namespace (nil: all) satisfy `predicate`, counted in place: nothing is copied out or sorted.
    public func count(namespace: String? = nil, where predicate: @Sendable (Object) -> Bool) -> Int {
        guard let namespace else { return objects.values.count(where: predicate) }
        return (byNamespace[namespace] ?? []).count { key in objects[key].map(predicate) ?? false }
    }

    /// Objects with an ownerReference to this uid.
    public func owned(by uid: String) -> [Object] {
        (byOwner[uid] ?? []).sorted().compactMap { objects[$0] }
    }

    public var count: Int { objects.count }

    public var keys: [ObjectKey] { objects.keys.sorted() }

    /// Stores an object; returns what it replaced.
    @discardableResult
    func upsert(_ object: Object) -> Object? {
        guard let key = ObjectKey(object) else { return nil }
        let previous = objects[key]
        if let previous { unindex(previous, key: key) }
        objects[key] = object
        index(object, key: key)
        return previous
    }

    @discardableResult
    func remove(_ object: Object) -> Object? {
        guard let key = ObjectKey(object) else { return nil }
        return remove(key)
    }

    @discardableResult
    func remove(_ key: ObjectKey) -> Object? {
        guard let previous = objects.removeValue(forKey: key) else { return nil }
        unindex(previous, key: key)
        return previous
    }

    /// Replaces the whole content after a (re)list; returns the events that turn the old content into the new.
    func replace(with items: [Object]) -> [InformerEvent<Object>] {
        var events: [InformerEvent<Object>] = []
        var seen: Set<ObjectKey> = []
        for item in items {
            guard let key = ObjectKey(item) else { continue }
            seen.insert(key)
            if let previous = upsert(item) {
                if previous.metadata?.resourceVersion != item.metadata?.resourceVersion {
                    events.append(.updated(old: previous, new: item))
                }
            } else {
                events.append(.added(item))
            }
        }
        for (key, object) in objects where !seen.contains(key) {
            remove(object)
            events.append(.deleted(object))
        }
        return events
    }

    private func index(_ object: Object, key: ObjectKey) {
        if let namespace = key.namespace { byNamespace[namespace, default: []].insert(key) }
        for reference in object.metadata?.ownerReferences ?? [] { byOwner[reference.uid, default: []].insert(key) }
        for (label, value) in object.metadata?.labels ?? [:] {
            byLabel[Self.labelIndexKey(label, value), default: []].insert(key)
        }
    }

    private func unindex(_ object: Object, key: ObjectKey) {
        if let namespace = key.namespace { Self.remove(key, from: &byNamespace, at: namespace) }
        for reference in object.metadata?.ownerReferences ?? [] { Self.remove(key, from: &byOwner, at: reference.uid) }
        for (label, value) in object.metadata?.labels ?? [:] {
            Self.remove(key, from: &byLabel, at: Self.labelIndexKey(label, value))
        }
    }

    private static func remove(_ key: ObjectKey, from index: inout [String: Set<ObjectKey>], at indexKey: String) {
        index[indexKey]?.remove(key)
        if index[indexKey]?.isEmpty == true { index[indexKey] = nil }
    }

    private static func labelIndexKey(_ key: String, _ value: String) -> String { key + "=" + value }
}

/// A change the informer saw, in the order it saw it.
public enum InformerEvent<Object: KubernetesObject>: Sendable {
    case added(Object)
    case updated(old: Object, new: Object)
    case deleted(Object)

    /// The object as it is now (or was last, for a deletion).
    public var object: Object {
        switch self {
        case .added(let object), .deleted(let object): object
        case .updated(_, let new): new
        }
    }
}
