import Foundation
import KubeKit

/// The cloud provider's service controller: a LoadBalancer Service gets an ingress hostname
/// `<name>-<hash>.elb.sim.local` after `loadBalancerDelay`; a Service that stops being one loses it.
actor LoadBalancerController: SimulatedController {
    let store: ClusterStore
    let delay: Duration
    private let services: ControllerClient
    /// LoadBalancer Services waiting for their address.
    private var requested = Delays()

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
        requested.forgetDeleted(changes.changed(.services))
        for service in await store.stored(.services, concernedBy: changes, waiting: requested.names) where !service.isBeingDeleted {
            guard let uid = service.uid, let name = service.objectName else { continue }
            let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
            guard service["spec"]?["type"]?.stringValue == "LoadBalancer" else {
                requested.stop(name)
                if !ingress.isEmpty { await services.updateStatus(of: service, to: ["loadBalancer": .object([:])]) }
                continue
            }
            guard ingress.isEmpty else {
                requested.stop(name)
                continue
            }
            let waited = requested.waited(name, uid: uid, now: now)
            if waited >= delay {
                var status = service["status"] ?? [:]
                status["loadBalancer"] = ["ingress": [["hostname": .string(Self.hostname(for: service))]]]
                await services.updateStatus(of: service, to: status)
            } else {
                let remaining = delay - waited
                nextWake = min(nextWake ?? remaining, remaining)
            }
        }
        return nextWake
    }
}
