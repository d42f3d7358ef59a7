import Foundation
import KubeKit

/// What the simulated controllers need from the store beyond the client verbs.
extension ClusterStore {
    /// The objects of a resource, in key order, straight from the store (no copy through the API's presentation).
    func stored(_ key: StorageKey, namespace: String? = nil) -> [JSONValue] {
        matchingObjects(key, namespace: namespace, labels: .everything, fields: .everything)
    }

    /// The pods of a namespace whose managing controller has this uid ("" for those with none), in name order.
    func pods(controlledBy uid: String, namespace: String) -> [JSONValue] {
        podsByController.names(controlledBy: uid).filter { $0.namespace == namespace }.sorted().compactMap { objects[.pods]?[$0] }
    }

    /// The objects of a resource with these names that exist, in the order asked for.
    func stored(_ key: StorageKey, named names: [ObjectName]) -> [JSONValue] {
        guard let store = objects[key] else { return [] }
        return names.compactMap { store[$0] }
    }

    /// What a controller's pass looks at: every object of a resource on a pass over everything; otherwise those that
    /// changed and still exist, and those it waits on, in key order.
    func stored(_ key: StorageKey, concernedBy changes: StoreChanges, waiting: Set<ObjectName>) -> [JSONValue] {
        if changes.everything { return stored(key) }
        return stored(key, named: waiting.union(changes.changed(key).filter { !$0.deleted }.compactMap(\.object.objectName)).sorted())
    }

    func resource(_ key: StorageKey) -> APIResource? { registry.preferred(key) }

    /// The `pods/binding` subresource as kube-scheduler uses it: sets `spec.nodeName` of a pod not yet bound, a change
    /// no client may make with an update.
    func bind(pod name: ObjectName, to node: String) {
        guard let old = objects[.pods]?[name], (old["spec"]?["nodeName"]?.stringValue ?? "").isEmpty, !old.isBeingDeleted else { return }
        var new = old
        new["spec"]?["nodeName"] = .string(node)
        commit(.pods, name, old: old, new: new)
    }
}

extension StorageKey {
    static let pods = StorageKey(group: "", plural: "pods")
    static let services = StorageKey(group: "", plural: "services")
    static let endpoints = StorageKey(group: "", plural: "endpoints")
    static let nodes = StorageKey(group: "", plural: "nodes")
    static let persistentVolumeClaims = StorageKey(group: "", plural: "persistentvolumeclaims")
    static let statefulSets = StorageKey(group: "apps", plural: "statefulsets")
    static let deployments = StorageKey(group: "apps", plural: "deployments")
    static let jobs = StorageKey(group: "batch", plural: "jobs")
}
