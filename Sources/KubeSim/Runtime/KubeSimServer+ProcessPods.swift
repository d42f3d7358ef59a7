import KubeKit

/// Faults for tests of pods that run as processes (`PodRuntime.processes`). Each needs the pod to be run by the
/// process runtime, not simulated.
extension KubeSimServer {
    /// SIGKILLs the container's processes (an OOM kill, a crash); the kubelet restarts it by the pod's restart policy.
    public func killContainer(_ container: String, pod name: String, namespace: String = "default") async throws(KubeSimError) {
        let (runtime, uid) = try await processPod(name, namespace: namespace)
        guard await runtime.kill(podUID: uid, container: container) else {
            throw KubeSimError.podNotRunningProcesses(namespace: namespace, name: name, why: "container \(container) is not running")
        }
    }

    /// Stops a node as if it were lost: its pods' processes die at once and nothing of them restarts; the Node goes
    /// Ready Unknown with the `node.kubernetes.io/unreachable` taints, its pods go NotReady, and new pods are
    /// scheduled on the other nodes. As after a real node loss, its pods are replaced only once they are
    /// force-deleted: one deleted with a grace period stays Terminating, since no kubelet is left to stop it.
    public func stopNode(_ node: String) async throws(KubeSimError) {
        guard let workloads else { throw KubeSimError.workloadsNotSimulated }
        guard await workloads.kubelet.simulation.nodeNames.contains(node) else { throw KubeSimError.nodeNotFound(node) }
        await workloads.runtime?.stopNode(node)
        await workloads.kubelet.loseNode(node)
    }

    /// Cuts the pod off the network (its veth goes down), or connects it again.
    public func setPodNetworkConnected(_ connected: Bool, pod name: String, namespace: String = "default") async throws(KubeSimError) {
        let (runtime, uid) = try await processPod(name, namespace: namespace)
        do {
            try await runtime.setConnected(connected, podUID: uid)
        } catch {
            throw KubeSimError.podNotRunningProcesses(namespace: namespace, name: name, why: "\(error)")
        }
    }

    /// The pod network, when pods run as processes: the bridge's name (also the prefix of every namespace and link
    /// the server creates), its range, its gateway (the host's address on it) and the server's state directory.
    public var podNetwork: (bridge: String, cidr: String, gateway: String, directory: String)? {
        workloads?.runtime.map { ($0.network.prefix, $0.network.cidr, $0.network.gatewayAddress, $0.network.directory) }
    }

    private func processPod(_ name: String, namespace: String) async throws(KubeSimError) -> (ProcessRuntime, String) {
        guard let runtime = workloads?.runtime else { throw KubeSimError.workloadsNotSimulated }
        guard let pod = await store.stored(.pods, namespace: namespace).first(where: { $0.metadataName == name }), let uid = pod.uid else {
            throw KubeSimError.podNotFound(namespace: namespace, name: name)
        }
        return (runtime, uid)
    }
}
