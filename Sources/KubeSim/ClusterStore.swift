import Foundation
import KubeKit
import NIOCore

/// One change as watches see it.
struct WatchEvent: Sendable {
    var type: String  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    var object: JSONValue
    /// The event already serialised as a JSON watch line, shared by every watch that sees it the same way.
    var line: ByteBuffer? = nil

    /// One watch line: `{"type":"ADDED","object":{...}}` and a newline.
    static func line(type: String, object: JSONValue) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        bytes.append(contentsOf: #"{"type":"#.utf8)
        JSONValue.string(type).writeJSON(into: &bytes, sortedKeys: false)
        bytes.append(contentsOf: #","object":"#.utf8)
        object.writeJSON(into: &bytes, sortedKeys: false)
        bytes.append(contentsOf: "}\n".utf8)
        return ByteBuffer(bytes: bytes)
    }
}

/// A committed change, kept in the bounded history that watches resume from.
struct HistoryEntry: Sendable {
    var resourceVersion: Int64
    var key: StorageKey
    var type: String
    var object: JSONValue
    var previous: JSONValue?
}

/// How a write was asked for: who writes (the field manager) and whether it is a dry run.
struct WriteContext: Sendable {
    var manager: String
    var dryRun: Bool
    var fieldValidation: FieldValidation = .warn
}

/// The cluster's state: every object of every resource, the one global resourceVersion counter, the event history
/// and the open watches. All reads and writes go through this actor, so each write is atomic and totally ordered.
actor ClusterStore {
    let configuration: KubeSimConfiguration
    private(set) var registry: ResourceRegistry
    var objects: [StorageKey: [ObjectName: JSONValue]] = [:]
    /// uid → where the object lives, for ownerReference lookups.
    var uidIndex: [String: (StorageKey, ObjectName)] = [:]
    /// Pods by their managing controller, for the simulated workload controllers.
    private(set) var podsByController = ControllerIndex()
    private(set) var resourceVersion: Int64 = 0
    var history: [HistoryEntry] = []
    /// Events at or below this resourceVersion have been dropped from the history.
    var historyFloor: Int64 = 0
    var watchers: [UUID: Watcher] = [:]
    /// Cluster IPs and node ports handed out to Services.
    var serviceAddresses = ServiceAddressAllocator()
    /// The warnings of the request being served, while `collectingWarnings` runs.
    var requestWarnings: [String]?
    /// Issued service-account token → the account it names.
    var serviceAccountTokens: [String: ServiceAccountToken] = [:]
    /// Where the process runtime keeps its pods' logs (`<root>/<uid>/logs/<container>/<restart>.log`); nil while no
    /// pod runs as processes.
    var podLogRoot: String?

    func setPodLogRoot(_ root: String?) { podLogRoot = root }
    /// Whether new pods get the service-account token volume, as the ServiceAccount admission plugin adds it (on
    /// while pods run as processes, where in-cluster clients read it).
    var serviceAccountAdmission = false

    func setServiceAccountAdmission(_ on: Bool) { serviceAccountAdmission = on }

    init(configuration: KubeSimConfiguration) {
        self.configuration = configuration
        registry = ResourceRegistry(builtin: Swagger.shared.builtinResources)
    }

    /// Creates the namespaces every cluster starts with.
    func bootstrap() {
        for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            guard let resource = registry.resource(group: "", version: "v1", plural: "namespaces") else { break }
            let object: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]
            _ = try? create(resource, namespace: nil, body: object, context: WriteContext(manager: "kube-apiserver", dryRun: false))
        }
        bootstrapRBAC()
    }

    func registrySnapshot() -> ResourceRegistry { registry }

    func currentResourceVersion() -> Int64 { resourceVersion }

    // MARK: Reads

    func get(_ resource: APIResource, namespace: String?, name: String) throws(APIError) -> JSONValue {
        guard let object = objects[resource.key]?[ObjectName(namespace: namespace ?? "", name: name)] else {
            throw APIError.notFound(resource, name: name)
        }
        return present(object, as: resource)
    }

    /// A list response: `{kind: XList, apiVersion, metadata: {resourceVersion, continue?, remainingItemCount?}, items}`.
    func list(
        _ resource: APIResource, namespace: String?, labels: LabelSelector, fields: FieldSelector,
        limit: Int?, continueToken: String?
    ) throws(APIError) -> JSONValue {
        var start: ObjectName?
        if let continueToken, !continueToken.isEmpty {
            guard let token = ContinueToken(encoded: continueToken) else {
                throw APIError.badRequest("continue key is not valid: \(continueToken)")
            }
            if token.resourceVersion < historyFloor {
                throw APIError.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
                )
            }
            start = token.after
        }
        let matching = matchingObjects(resource.key, namespace: namespace, labels: labels, fields: fields, after: start)
        var items = matching
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(resourceVersion))]
        if let limit, limit > 0, matching.count > limit {
            items = Array(matching.prefix(limit))
            if let last = items.last, let name = last.metadataName {
                let token = ContinueToken(resourceVersion: resourceVersion, after: ObjectName(namespace: last.metadataNamespace ?? "", name: name))
                metadata["continue"] = .string(token.encoded)
                metadata["remainingItemCount"] = .int(Int64(matching.count - limit))
            }
        }
        return [
            "kind": .string(resource.kind + "List"),
            "apiVersion": .string(resource.apiVersion),
            "metadata": .object(metadata),
            "items": .array(items.map { present($0, as: resource) }),
        ]
    }

    func matchingObjects(
        _ key: StorageKey, namespace: String?, labels: LabelSelector, fields: FieldSelector, after start: ObjectName? = nil
    ) -> [JSONValue] {
        let store = objects[key] ?? [:]
        // Filtered before sorted: the simulated controllers ask for one namespace of a large store on every pass.
        return store.lazy.filter { name, object in
            (namespace == nil || name.namespace == namespace) && (start.map { name > $0 } ?? true)
                && labels.matches(object) && fields.matches(object)
        }
        .sorted { $0.key < $1.key }.map(\.value)
    }

    /// An object as served at a resource's version.
    nonisolated func present(_ object: JSONValue, as resource: APIResource) -> JSONValue {
        // Most objects are read at the version they were written at; leaving those alone saves a copy per watch.
        if object["apiVersion"]?.stringValue == resource.apiVersion, object["kind"]?.stringValue == resource.kind { return object }
        var copy = object
        copy["apiVersion"] = .string(resource.apiVersion)
        copy["kind"] = .string(resource.kind)
        return copy
    }

    // MARK: Commit

    /// Stores a new state of an object (nil deletes it), stamps the next resourceVersion, records the event and
    /// tells the watches. Returns the stored object.
    @discardableResult
    func commit(_ key: StorageKey, _ name: ObjectName, old: JSONValue?, new: JSONValue?) -> JSONValue? {
        resourceVersion += 1
        if key == .pods { podsByController.update(name, old: old, new: new) }
        let type: String
        let eventObject: JSONValue
        if var new {
            new.setMetadata("resourceVersion", .string(String(resourceVersion)))
            objects[key, default: [:]][name] = new
            if let uid = new.uid { uidIndex[uid] = (key, name) }
            type = old == nil ? "ADDED" : "MODIFIED"
            eventObject = new
        } else if var old {
            objects[key]?[name] = nil
            if let uid = old.uid { uidIndex[uid] = nil }
            old.setMetadata("resourceVersion", .string(String(resourceVersion)))
            type = "DELETED"
            eventObject = old
        } else {
            return nil
        }
        let entry = HistoryEntry(resourceVersion: resourceVersion, key: key, type: type, object: eventObject, previous: old)
        history.append(entry)
        let limit = max(1, configuration.watchHistoryLimit)
        if history.count > limit + max(1, limit / 8) {
            let dropped = history.count - limit
            historyFloor = history[dropped - 1].resourceVersion
            history.removeFirst(dropped)
        }
        deliver(entry)
        return type == "DELETED" ? nil : eventObject
    }

    /// Registers or unregisters the resources a CRD defines; called for every committed CRD change.
    func updateRegistry(forCRD crd: JSONValue?, removedName: String?) {
        if let removedName { registry.unregister(crdName: removedName) }
        if let crd { registry.register(crd: crd) }
    }
}

/// The opaque `continue` token: the list's resourceVersion and the last key returned.
struct ContinueToken: Sendable {
    var resourceVersion: Int64
    var after: ObjectName

    init(resourceVersion: Int64, after: ObjectName) {
        self.resourceVersion = resourceVersion
        self.after = after
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded),
            let json = try? JSONValue.parse(data),
            let rv = json["rv"]?.intValue, let name = json["name"]?.stringValue
        else { return nil }
        resourceVersion = rv
        after = ObjectName(namespace: json["namespace"]?.stringValue ?? "", name: name)
    }

    var encoded: String {
        let json: JSONValue = ["rv": .int(resourceVersion), "namespace": .string(after.namespace), "name": .string(after.name)]
        return json.jsonData().base64EncodedString()
    }
}
