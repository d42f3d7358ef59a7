import KubeKit

extension Kubelet {
    /// Reports the node as the node lifecycle controller does once its kubelet stops posting status (Ready
    /// Unknown), or Ready again.
    func setNodeReady(_ node: String, _ ready: Bool) async {
        guard let nodes = await ControllerClient(store: store, key: .nodes, manager: "node-controller"),
            let object = await store.stored(.nodes).first(where: { $0.metadataName == node })
        else { return }
        var status = object["status"] ?? [:]
        let now = Clock.now()
        status["conditions"] = [
            [
                "type": "Ready", "status": ready ? "True" : "Unknown", "lastTransitionTime": .string(now), "lastHeartbeatTime": .string(now),
                "reason": ready ? "KubeletReady" : "NodeStatusUnknown",
                "message": ready ? "kubelet is posting ready status" : "Kubelet stopped posting node status.",
            ]
        ]
        await nodes.updateStatus(of: object, to: status)
    }
}
