import Foundation
import KubeKit

/// The cloud provider's service controller: a LoadBalancer Service gets an ingress hostname
/// `<name>-<hash>.elb.sim.local` after `loadBalancerDelay`; a Service that stops being one loses it.
actor LoadBalancerController: SimulatedController {
    let store: ClusterStore
    let delay: Duration
    private let services: ControllerClient
    /// LoadBalancer Services waiting for their address: since when, by the uid asked for.
    private var requested: [ObjectName: (uid: String, since: ContinuousClock.Instant)] = [:]

    let watched: [StorageKey] = [.services]

    init?(store: ClusterStore, delay: Duration) async {
        guard let services = await ControllerClient(store: store, key: .services, manager: "service-controller") else { return nil }
        self.store = store
        self.delay = delay
        self.services = services
    }

    static func hostname(for service: JSONValue) -> String {
        "\(service.metadataName ?? "service")-\(TemplateHash.of(bytes: Array((service.uid ?? "").utf8))).elb.sim.local"
    }

    /// Looks at the Services that changed and those waiting for their address (every Service on the first pass).
    func reconcile(_ changes: StoreChanges) async -> Duration? {
        let now = ContinuousClock.now
        var nextWake: Duration?
        let changed = changes.changed(.services)
        for change in changed where change.deleted {
            if let name = change.object.objectName, requested[name]?.uid == change.object.uid { requested[name] = nil }
        }
        let names = Set(requested.keys).union(changed.filter { !$0.deleted }.compactMap(\.object.objectName))
        let current = changes.everything ? await store.stored(.services) : await store.stored(.services, named: names.sorted())
        for service in current where !service.isBeingDeleted {
            guard let uid = service.uid, let name = service.objectName else { continue }
            let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
            guard service["spec"]?["type"]?.stringValue == "LoadBalancer" else {
                requested[name] = nil
                if !ingress.isEmpty { await services.updateStatus(of: service, to: ["loadBalancer": .object([:])]) }
                continue
            }
            guard ingress.isEmpty else {
                requested[name] = nil
                continue
            }
            let since = requested[name].flatMap { $0.uid == uid ? $0.since : nil } ?? now
            requested[name] = (uid, since)
            if now - since >= delay {
                var status = service["status"] ?? [:]
                status["loadBalancer"] = ["ingress": [["hostname": .string(Self.hostname(for: service))]]]
                await services.updateStatus(of: service, to: status)
            } else {
                let remaining = delay - (now - since)
                nextWake = min(nextWake ?? remaining, remaining)
            }
        }
        return nextWake
    }
}
