import KubeKit

/// A lost node, as the node lifecycle controller and the scheduler see it: the Node goes Ready Unknown with the
/// `node.kubernetes.io/unreachable` taints, its pods are marked not ready, and new pods go to the other nodes.
extension Kubelet {
    static let unreachableTaint = "node.kubernetes.io/unreachable"

    /// Stops the node's kubelet for good (the runtime kills the processes of its pods).
    func loseNode(_ node: String) async {
        lostNodes.insert(node)
        forgetSettledPods()
        guard let nodes = await ControllerClient(store: store, key: .nodes, manager: "node-controller"),
            let object = await store.stored(.nodes).first(where: { $0.metadataName == node })
        else { return }
        let now = Clock.now()
        var tainted = object
        let others = (object["spec"]?["taints"]?.arrayValue ?? []).filter { $0["key"]?.stringValue != Self.unreachableTaint }
        tainted["spec"]?["taints"] = .array(
            others + ["NoSchedule", "NoExecute"].map { ["key": .string(Self.unreachableTaint), "effect": .string($0), "timeAdded": .string(now)] })
        await nodes.update(tainted)
        guard let updated = await store.stored(.nodes).first(where: { $0.metadataName == node }) else { return }
        var status = updated["status"] ?? [:]
        status["conditions"] = [
            [
                "type": "Ready", "status": "Unknown", "lastTransitionTime": .string(now), "lastHeartbeatTime": .string(now),
                "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status.",
            ]
        ]
        await nodes.updateStatus(of: updated, to: status)
        _ = await reconcile(.everything)
    }

    /// The nodes a new pod may go to, in the simulation's order: Ready, not cordoned, not tainted NoSchedule or NoExecute.
    func schedulableNodes() async -> [String] {
        let nodes = await store.stored(.nodes)
        return simulation.nodeNames.filter { name in
            guard !lostNodes.contains(name), let node = nodes.first(where: { $0.metadataName == name }) else { return false }
            let ready = node["status"]?["conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
            let tainted = (node["spec"]?["taints"]?.arrayValue ?? []).contains { ["NoSchedule", "NoExecute"].contains($0["effect"]?.stringValue ?? "") }
            return ready && node["spec"]?["unschedulable"]?.boolValue != true && !tainted
        }
    }

    /// The scheduler's word on a pod no node can take: PodScheduled False, Unschedulable.
    func reportUnschedulable(_ pod: JSONValue) async {
        guard let pods = await ControllerClient(store: store, key: .pods, manager: "default-scheduler") else { return }
        var status = pod["status"] ?? [:]
        let previous = status["conditions"]?.arrayValue ?? []
        let count = simulation.nodeNames.count
        status["conditions"] = [
            Conditions.make(
                "PodScheduled", false, reason: "Unschedulable",
                message: "0/\(count) nodes are available: \(count) node(s) were unschedulable or not ready.", previous: previous, now: Clock.now())
        ]
        await pods.updateStatus(of: pod, to: status)
    }

    /// Ready and ContainersReady False on a pod of a lost node, as the node lifecycle controller marks them.
    func markNotReady(_ pod: JSONValue) async {
        guard let pods = await ControllerClient(store: store, key: .pods, manager: "node-controller") else { return }
        var status = pod["status"] ?? [:]
        let conditions = status["conditions"]?.arrayValue ?? []
        status["conditions"] = .array(
            conditions.map { condition in
                guard ["Ready", "ContainersReady"].contains(condition["type"]?.stringValue ?? ""), condition["status"] != "False" else { return condition }
                return Conditions.make(
                    condition["type"]?.stringValue ?? "", false, reason: "NodeLost", message: "the node's kubelet stopped posting status", previous: [],
                    now: Clock.now())
            })
        if let containers = status["containerStatuses"]?.arrayValue {
            status["containerStatuses"] = .array(
                containers.map { container in
                    var container = container
                    container["ready"] = false
                    return container
                })
        }
        await pods.updateStatus(of: pod, to: status)
    }
}
