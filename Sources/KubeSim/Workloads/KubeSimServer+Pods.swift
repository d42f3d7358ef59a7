import KubeKit

/// Test controls over simulated pods: what a node does to them when things go wrong. They need
/// `KubeSimConfiguration.workloads`; each returns once the pod's new status is in the store.
extension KubeSimServer {
    /// Fails the pod: phase Failed, its containers terminated with exit code 1 and `message`. Its StatefulSet
    /// replaces it; a Deployment starts another pod.
    public func failPod(_ name: String, namespace: String = "default", message: String = "failed by the test") async throws(KubeSimError) {
        try await kubelet().override(ObjectName(namespace: namespace, name: name)) { $0.failure = message }
    }

    /// Makes one container (or, with nil, every container) of the pod not ready, or ready again; the pod is Ready only
    /// while all of them are.
    public func setPodReady(_ ready: Bool, _ name: String, namespace: String = "default", container: String? = nil) async throws(KubeSimError) {
        try await kubelet().override(ObjectName(namespace: namespace, name: name)) { state in
            switch (ready, container) {
            case (true, nil):
                state.allNotReady = false
                state.notReadyContainers = []
            case (true, let container?): state.notReadyContainers.remove(container)
            case (false, nil): state.allNotReady = true
            case (false, let container?): state.notReadyContainers.insert(container)
            }
        }
    }

    /// Changes how long a pod takes to start and become ready, counted from when the kubelet first saw it; pods already
    /// started stay so.
    public func setPodReadyDelay(_ delay: Duration) async throws(KubeSimError) {
        try await kubelet().setPodReadyDelay(delay)
    }

    /// Removes the pod at once, without a grace period, as the pod garbage collector does when its node is lost.
    public func losePod(_ name: String, namespace: String = "default") async throws(KubeSimError) {
        _ = try kubelet()
        guard let resource = await store.resource(.pods) else { throw KubeSimError.workloadsNotSimulated }
        var options = DeleteOptions(propagation: .background)
        options.gracePeriodSeconds = 0
        do {
            _ = try await store.delete(resource, namespace: namespace, name: name, options: options)
        } catch {
            throw KubeSimError.podNotFound(namespace: namespace, name: name)
        }
    }

    private func kubelet() throws(KubeSimError) -> Kubelet {
        guard let workloads else { throw KubeSimError.workloadsNotSimulated }
        return workloads.kubelet
    }
}
