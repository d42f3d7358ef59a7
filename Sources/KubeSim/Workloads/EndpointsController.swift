import Foundation
import KubeKit

/// The endpoints controller: an Endpoints object per Service with a selector, with the matching pods that have an IP
/// as `addresses` when Ready and `notReadyAddresses` otherwise (all in `addresses` with `publishNotReadyAddresses`),
/// ports resolved against each pod's named container ports. Endpoints it wrote go when their Service goes.
actor EndpointsController: SimulatedController {
    static let manager = "endpoint-controller"
    let store: ClusterStore
    private let endpoints: ControllerClient
    /// The resourceVersions of each Service, its Endpoints and its pods when the Endpoints last needed no write.
    private var unchanged: [ObjectName: [String]] = [:]

    let watched: [StorageKey] = [.services, .pods, .endpoints]

    init?(store: ClusterStore) async {
        guard let endpoints = await ControllerClient(store: store, key: .endpoints, manager: Self.manager) else { return nil }
        self.store = store
        self.endpoints = endpoints
    }

    func reconcile() async -> Duration? {
        let services = await store.stored(.services)
        let serviceNames = Set(services.compactMap { service in service.metadataName.map { ObjectName(namespace: service.metadataNamespace ?? "", name: $0) } })
        unchanged = unchanged.filter { serviceNames.contains($0.key) }
        let existing = await store.stored(.endpoints)
        var byName: [ObjectName: JSONValue] = [:]
        for object in existing {
            guard let name = object.metadataName else { continue }
            byName[ObjectName(namespace: object.metadataNamespace ?? "", name: name)] = object
        }
        let index = PodsByLabel(await store.stored(.pods))
        for service in services where !service.isBeingDeleted {
            guard let name = service.metadataName, let namespace = service.metadataNamespace,
                let selector = service["spec"]?["selector"]?.objectValue, !selector.isEmpty
            else { continue }
            let pods = index.pods(in: namespace, matching: selector.compactMapValues(\.stringValue))
            let objectName = ObjectName(namespace: namespace, name: name)
            let current = byName[objectName]
            // The versions of everything the subsets are made from: unchanged since the last pass, nothing to do.
            let inputs =
                [service, current ?? .null].map { $0.resourceVersionString ?? "" }
                + pods.map { ($0.metadataName ?? "") + "@" + ($0.resourceVersionString ?? "") }
            if unchanged[objectName] == inputs { continue }
            let subsets = Self.subsets(for: service, pods: pods)
            if let current {
                if current["subsets"] ?? .array([]) == subsets {
                    unchanged[objectName] = inputs
                    continue
                }
                var updated = current
                updated["subsets"] = subsets == .array([]) ? nil : subsets
                await endpoints.update(updated)
            } else {
                var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string(namespace)]
                if let labels = service["metadata"]?["labels"] { metadata["labels"] = labels }
                var object: JSONValue = ["apiVersion": "v1", "kind": "Endpoints", "metadata": .object(metadata)]
                if subsets != .array([]) { object["subsets"] = subsets }
                await endpoints.create(object)
            }
        }
        for (name, object) in byName where !serviceNames.contains(name) && ManagedFields.entries(of: object).contains(where: { $0.manager == Self.manager }) {
            await endpoints.delete(object)
        }
        return nil
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

/// One pass's pods by namespace and label, so each Service's selector is matched against the pods carrying one of
/// its labels rather than every pod of its namespace.
struct PodsByLabel {
    private var byLabel: [String: [JSONValue]] = [:]

    init(_ pods: [JSONValue]) {
        for pod in pods {
            let namespace = pod.metadataNamespace ?? ""
            for (label, value) in pod.labels { byLabel[Self.key(namespace, label, value), default: []].append(pod) }
        }
    }

    func pods(in namespace: String, matching selector: [String: String]) -> [JSONValue] {
        let candidates = selector.map { byLabel[Self.key(namespace, $0.key, $0.value)] ?? [] }.min { $0.count < $1.count } ?? []
        let matcher = LabelSelector(matching: selector)
        return candidates.filter { matcher.matches($0) }
    }

    private static func key(_ namespace: String, _ label: String, _ value: String) -> String {
        namespace + "\u{0}" + label + "=" + value
    }
}
