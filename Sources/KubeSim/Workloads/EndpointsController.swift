import Foundation
import KubeKit

/// The endpoints controller: an Endpoints object per Service with a selector, with the matching pods that have an IP
/// as `addresses` when Ready and `notReadyAddresses` otherwise (all in `addresses` with `publishNotReadyAddresses`),
/// ports resolved against each pod's named container ports. Endpoints it wrote go when their Service goes.
actor EndpointsController: SimulatedController {
    static let manager = "endpoint-controller"
    let store: ClusterStore
    private let endpoints: ControllerClient
    /// The labels of every pod, and the selector of every Service, as their last events showed them.
    private var pods = LabelIndex()
    private var services = SelectorIndex()

    let watched: [StorageKey] = [.services, .pods, .endpoints]

    init?(store: ClusterStore) async {
        guard let endpoints = await ControllerClient(store: store, key: .endpoints, manager: Self.manager) else { return nil }
        self.store = store
        self.endpoints = endpoints
    }

    func reconcile(_ changes: StoreChanges) async -> Duration? {
        let concerned = changes.everything ? await indexEverything() : index(changes)
        for name in concerned { await reconcile(service: name) }
        return nil
    }

    /// Indexes the whole store afresh; every Service is concerned, and every Endpoints object.
    private func indexEverything() async -> [ObjectName] {
        pods.removeAll()
        services.removeAll()
        for pod in await store.stored(.pods) {
            if let name = pod.objectName { pods.set(name, labels: pod.labels) }
        }
        var concerned = Set<ObjectName>()
        for service in await store.stored(.services) {
            guard let name = service.objectName else { continue }
            services.set(name, selector: Self.selector(of: service))
            concerned.insert(name)
        }
        for object in await store.stored(.endpoints) {
            if let name = object.objectName { concerned.insert(name) }
        }
        return concerned.sorted()
    }

    /// Folds changes into the indexes; returns the Services they concern: a changed Service, the one a changed
    /// Endpoints object is named after, and those selecting a changed pod before or after its change.
    private func index(_ changes: StoreChanges) -> [ObjectName] {
        var concerned = Set<ObjectName>()
        for change in changes.changed(.services) {
            guard let name = change.object.objectName else { continue }
            services.set(name, selector: change.deleted ? nil : Self.selector(of: change.object))
            concerned.insert(name)
        }
        for change in changes.changed(.endpoints) {
            if let name = change.object.objectName { concerned.insert(name) }
        }
        for change in changes.changed(.pods) {
            guard let name = change.object.objectName else { continue }
            let labels = change.deleted ? nil : change.object.labels
            let before = pods.set(name, labels: labels)
            for labels in [before, labels].compactMap({ $0 }) {
                concerned.formUnion(services.services(in: name.namespace, selecting: labels))
            }
        }
        return concerned.sorted()
    }

    /// Brings one Service's Endpoints in line with the pods its selector matches; removes the Endpoints this
    /// controller wrote for a Service that is gone.
    private func reconcile(service name: ObjectName) async {
        let current = await store.stored(.endpoints, named: [name]).first
        guard let service = await store.stored(.services, named: [name]).first else {
            if let current, ManagedFields.entries(of: current).contains(where: { $0.manager == Self.manager }) {
                await endpoints.delete(current)
            }
            return
        }
        guard !service.isBeingDeleted, let selector = Self.selector(of: service) else { return }
        let matching = await store.stored(.pods, named: pods.names(in: name.namespace, matching: selector)).filter { LabelIndex.holds($0.labels, selector) }
        let subsets = Self.subsets(for: service, pods: matching)
        if let current {
            guard current["subsets"] ?? .array([]) != subsets else { return }
            var updated = current
            updated["subsets"] = subsets == .array([]) ? nil : subsets
            await endpoints.update(updated)
        } else {
            var metadata: [String: JSONValue] = ["name": .string(name.name), "namespace": .string(name.namespace)]
            if let labels = service["metadata"]?["labels"] { metadata["labels"] = labels }
            var object: JSONValue = ["apiVersion": "v1", "kind": "Endpoints", "metadata": .object(metadata)]
            if subsets != .array([]) { object["subsets"] = subsets }
            await endpoints.create(object)
        }
    }

    /// A Service's selector, if it has a non-empty one (a Service without one has its Endpoints managed by hand).
    static func selector(of service: JSONValue) -> [String: String]? {
        guard let selector = service["spec"]?["selector"]?.objectValue?.compactMapValues(\.stringValue), !selector.isEmpty else { return nil }
        return selector
    }

    /// Subsets grouped by the ports each pod resolves the Service's ports to, as the real controller packs them.
    static func subsets(for service: JSONValue, pods: [JSONValue]) -> JSONValue {
        let servicePorts = service["spec"]?["ports"]?.arrayValue ?? []
        let publishNotReady = service["spec"]?["publishNotReadyAddresses"]?.boolValue == true
        var groups: [(ports: [JSONValue], ready: [JSONValue], notReady: [JSONValue])] = []
        for pod in pods.sorted(by: { ($0.metadataName ?? "") < ($1.metadataName ?? "") }) {
            guard let ip = pod["status"]?["podIP"]?.stringValue, !ip.isEmpty, !pod.isPodTerminal else { continue }
            if pod.isBeingDeleted, !publishNotReady { continue }
            let ports = servicePorts.compactMap { port -> JSONValue? in
                guard let number = resolve(port["targetPort"] ?? port["port"], in: pod) else { return nil }
                var endpointPort: [String: JSONValue] = ["port": .int(number), "protocol": port["protocol"] ?? "TCP"]
                if let name = port["name"], name != "" { endpointPort["name"] = name }
                if let appProtocol = port["appProtocol"] { endpointPort["appProtocol"] = appProtocol }
                return .object(endpointPort)
            }
            if !servicePorts.isEmpty, ports.isEmpty { continue }
            var address: [String: JSONValue] = [
                "ip": .string(ip),
                "targetRef": [
                    "kind": "Pod", "namespace": pod["metadata"]?["namespace"] ?? "", "name": pod["metadata"]?["name"] ?? "",
                    "uid": pod["metadata"]?["uid"] ?? "",
                ],
            ]
            if let node = pod["spec"]?["nodeName"] { address["nodeName"] = node }
            if let hostname = pod["spec"]?["hostname"]?.stringValue, pod["spec"]?["subdomain"]?.stringValue == service.metadataName {
                address["hostname"] = .string(hostname)
            }
            if !groups.contains(where: { $0.ports == ports }) { groups.append((ports, [], [])) }
            guard let index = groups.firstIndex(where: { $0.ports == ports }) else { continue }
            if pod.isPodReady || publishNotReady {
                groups[index].ready.append(.object(address))
            } else {
                groups[index].notReady.append(.object(address))
            }
        }
        return .array(
            groups.map { group in
                var subset: [String: JSONValue] = [:]
                if !group.ready.isEmpty { subset["addresses"] = .array(group.ready) }
                if !group.notReady.isEmpty { subset["notReadyAddresses"] = .array(group.notReady) }
                if !group.ports.isEmpty { subset["ports"] = .array(group.ports) }
                return .object(subset)
            })
    }

    /// A target port as a number: itself, or the named container port of the pod.
    static func resolve(_ target: JSONValue?, in pod: JSONValue) -> Int64? {
        switch target {
        case .int(let number): return number
        case .string(let name):
            if let number = Int64(name) { return number }
            for container in pod["spec"]?["containers"]?.arrayValue ?? [] {
                for port in container["ports"]?.arrayValue ?? [] where port["name"]?.stringValue == name {
                    return port["containerPort"]?.intValue
                }
            }
            return nil
        default: return nil
        }
    }
}
