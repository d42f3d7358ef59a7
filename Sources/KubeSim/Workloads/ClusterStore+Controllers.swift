import Foundation
import KubeKit

/// What the simulated controllers need from the store beyond the client verbs.
extension ClusterStore {
    /// The objects of a resource, in key order, straight from the store (no copy through the API's presentation).
    func stored(_ key: StorageKey, namespace: String? = nil) -> [JSONValue] {
        matchingObjects(key, namespace: namespace, labels: .everything, fields: .everything)
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
}

/// The client verbs a controller uses, bound to one resource and one field manager. Failures are left for the next
/// pass: a conflict or a vanished object means the store changed, and that change starts another pass anyway.
struct ControllerClient: Sendable {
    let store: ClusterStore
    let resource: APIResource
    let manager: String

    init?(store: ClusterStore, key: StorageKey, manager: String) async {
        guard let resource = await store.resource(key) else { return nil }
        self.store = store
        self.resource = resource
        self.manager = manager
    }

    private var context: WriteContext { WriteContext(manager: manager, dryRun: false) }

    func create(_ object: JSONValue) async {
        _ = try? await store.create(resource, namespace: object.metadataNamespace, body: object, context: context)
    }

    /// Writes `status` through the status subresource, unless it is what the object already has.
    func updateStatus(of object: JSONValue, to status: JSONValue) async {
        guard object["status"] != status, let name = object.metadataName else { return }
        var candidate = object
        candidate["status"] = status
        _ = try? await store.update(resource, namespace: object.metadataNamespace, name: name, body: candidate,
            subresource: resource.hasStatus ? "status" : nil, context: context)
    }

    func update(_ object: JSONValue) async {
        guard let name = object.metadataName else { return }
        _ = try? await store.update(resource, namespace: object.metadataNamespace, name: name, body: object, subresource: nil, context: context)
    }

    /// Deletes one object, only if it is still the one the caller looked at.
    func delete(_ object: JSONValue, gracePeriodSeconds: Int64? = nil) async {
        guard let name = object.metadataName else { return }
        var options = DeleteOptions(propagation: .background)
        options.preconditionUID = object.uid
        options.gracePeriodSeconds = gracePeriodSeconds
        _ = try? await store.delete(resource, namespace: object.metadataNamespace, name: name, options: options)
    }
}
