import KubeKit

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
        _ = try? await store.update(
            resource, namespace: object.metadataNamespace, name: name, body: candidate,
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
