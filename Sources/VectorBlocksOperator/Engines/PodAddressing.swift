import KubeKit

/// How the operator reaches a port of a pod. In a cluster that is the pod's IP; tests and the playground, whose pods
/// are simulated, map pods onto servers of their own or onto nothing.
public struct PodAddressing: Sendable {
    public let address: @Sendable (_ pod: CoreV1.Pod, _ port: Int) -> (host: String, port: Int)?

    public init(_ address: @escaping @Sendable (_ pod: CoreV1.Pod, _ port: Int) -> (host: String, port: Int)?) {
        self.address = address
    }

    /// The pod's IP, as an operator running in the cluster reaches it.
    public static let podIP = PodAddressing { pod, port in
        guard let ip = pod.status?.podIP, !ip.isEmpty else { return nil }
        return (ip, port)
    }

    /// No pod is reachable: engine hooks that need the network wait, and say so.
    public static let unreachable = PodAddressing { _, _ in nil }
}
