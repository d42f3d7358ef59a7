/// How the simulated controllers and kubelet behave (DESIGN.md §6): the delays a real cluster would take, shortened.
/// Set `KubeSimConfiguration.workloads` to one of these to run them; leave it nil for a bare API server.
public struct WorkloadSimulation: Sendable {
    /// From a pod being scheduled to its containers running and ready.
    public var podReadyDelay: Duration = .milliseconds(200)
    /// How long the kubelet takes to stop a deleted pod's containers before it removes the pod, whatever grace
    /// period was asked for (the sim's stand-in for `terminationGracePeriodSeconds`).
    public var podTerminationDelay: Duration = .milliseconds(100)
    /// From a LoadBalancer Service being created to its ingress hostname being published.
    public var loadBalancerDelay: Duration = .milliseconds(200)
    /// From a bound claim's storage request growing to its capacity following.
    public var volumeResizeDelay: Duration = .milliseconds(200)
    /// The simulated nodes pods are scheduled on, in turn (the default three when empty).
    public var nodeNames = ["kube-sim-worker-1", "kube-sim-worker-2", "kube-sim-worker-3"]
    /// Whether pods only get a status (`.simulated`) or run as processes (`.processes`, Linux and root).
    public var runtime: PodRuntime = .simulated

    public init() {}
}
