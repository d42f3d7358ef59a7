/// How the kubelets of `WorkloadSimulation` run pods: simulated (status only, as always), or as Linux processes.
public enum PodRuntime: Sendable, Equatable {
    /// Pods get a status, an IP and conditions after `podReadyDelay`; nothing runs.
    case simulated
    /// Pods whose every image is in the map run as processes in their own network and mount namespaces (Linux,
    /// root); the others stay simulated, with an Event saying why.
    case processes(ProcessRuntimeSettings)
}

/// The process runtime's settings (see `PodRuntime.processes`).
public struct ProcessRuntimeSettings: Sendable, Equatable {
    public var imageMap: ImageMap
    /// Where pods' volumes, claims' directories, logs and root directories live, one directory per server; each
    /// server also leaves an owner file here, by which the next server cleans up after one that crashed.
    public var stateDirectory = "/tmp/kube-sim-pods"
    /// The kubelet's first delay before restarting a container that exited (10s in Kubernetes); it doubles with every
    /// crash, up to `maximumRestartBackOff`, and starts over once a container ran for ten minutes.
    public var restartBackOff: Duration = .seconds(10)
    public var maximumRestartBackOff: Duration = .seconds(300)

    public init(imageMap: ImageMap) { self.imageMap = imageMap }
}
