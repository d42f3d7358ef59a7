import KubeKit
import OperatorKit

/// Which pod changes can change a Cluster's reconcile: its status counts ready pods, the engine hooks look at
/// membership, readiness, addresses and role labels, the status names a pod's problem, and a pod going away
/// matters. A kubelet's other status writes (probe and start times, image ids) do not.
enum PodEvents {
    static let outcomeRelevant = EventFilter<CoreV1.Pod> { old, new in
        fingerprint(old) != fingerprint(new)
    }

    struct Fingerprint: Hashable {
        var labels: [String: String]?
        var deleting: Bool
        var phase: String?
        var ready: Bool
        var ip: String?
        var node: String?
        var restarts: [Int32]
        var problem: String?
    }

    static func fingerprint(_ pod: CoreV1.Pod) -> Fingerprint {
        Fingerprint(
            labels: pod.metadata?.labels, deleting: pod.metadata?.deletionTimestamp != nil, phase: pod.status?.phase,
            ready: ClusterStatusCalculator.isReady(pod), ip: pod.status?.podIP, node: pod.spec?.nodeName,
            restarts: (pod.status?.containerStatuses ?? []).map(\.restartCount),
            problem: ClusterStatusCalculator.problem(of: pod))
    }
}
