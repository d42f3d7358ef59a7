import Foundation
import KubeKit

/// The cloud provider's service controller: a LoadBalancer Service gets an ingress hostname
/// `<name>-<hash>.elb.sim.local` after `loadBalancerDelay`; a Service that stops being one loses it.
actor LoadBalancerController: SimulatedController {
    let store: ClusterStore
    let delay: Duration
    private let services: ControllerClient
    private var requested: [String: ContinuousClock.Instant] = [:]
    /// Services with nothing left to do: no load balancer wanted and none reported, or its address reported.
    private var settled = SettledObjects()

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

    func reconcile(_: StoreChanges) async -> Duration? {
        let now = ContinuousClock.now
        var nextWake: Duration?
        let current = await store.stored(.services)
        let uids = Set(current.compactMap(\.uid))
        requested = requested.filter { uids.contains($0.key) }
        settled.keep(only: uids)
        for service in current where !service.isBeingDeleted {
            guard let uid = service.uid, !settled.contains(service) else { continue }
            let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
            guard service["spec"]?["type"]?.stringValue == "LoadBalancer" else {
                requested[uid] = nil
                if ingress.isEmpty {
                    settled.insert(service)
                } else {
                    await services.updateStatus(of: service, to: ["loadBalancer": .object([:])])
                }
                continue
            }
            guard ingress.isEmpty else {
                settled.insert(service)
                continue
            }
            let since = requested[uid] ?? now
            requested[uid] = since
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
