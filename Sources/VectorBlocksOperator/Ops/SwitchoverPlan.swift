import KubeKit
import VectorBlocksAPI

/// A Switchover's decisions, as pure functions of the pods and what the replicas report: which standby to promote
/// (or why none can be), and how far the switch has come.
public enum SwitchoverPlan {
    public enum Choice: Sendable, Hashable {
        case promote(String)
        case refused(String)
    }

    /// The standby to promote for `instanceName`: the one named, or (for `*`) the ready streaming standby that
    /// received the most WAL, lowest ordinal among equals. Refused, with what to do, unless the primary runs
    /// read-write and the candidate is a ready standby streaming from it: a switchover to anything else could lose
    /// transactions or stall the component.
    public static func choose(
        _ instanceName: String, primary: String, states: [String: ReplicaState], pods: [CoreV1.Pod],
        isFollowing: (ReplicaState) -> Bool
    ) -> Choice {
        guard let primaryState = states[primary], !primaryState.inRecovery else {
            return .refused(
                "the primary \(primary) is not running read-write, so there is nothing to switch over from; the operator fails over from an unavailable primary on its own: retry once the Cluster is Running"
            )
        }
        let ready = Set(pods.filter { ClusterStatusCalculator.isReady($0) && $0.metadata?.deletionTimestamp == nil }.compactMap(\.metadata?.name))
        func streams(_ name: String) -> Bool {
            guard let state = states[name] else { return false }
            return state.inRecovery && state.streaming && isFollowing(state)
        }
        if instanceName == OpsRequestSpec.Switchover.mostAdvanced {
            let candidates = states.keys.filter { $0 != primary && ready.contains($0) && streams($0) }
            let best = candidates.max { lhs, rhs in
                let (left, right) = (states[lhs]?.receivedLSN?.value ?? 0, states[rhs]?.receivedLSN?.value ?? 0)
                if left != right { return left < right }
                return (EngineComponent.ordinal(inPodName: lhs) ?? .max) > (EngineComponent.ordinal(inPodName: rhs) ?? .max)
            }
            guard let best else {
                return .refused("no ready standby is streaming from the primary \(primary); wait until one streams, then retry")
            }
            return .promote(best)
        }
        guard instanceName != primary else {
            return .refused("\(instanceName) is the primary already; name a standby, or * for the one that received the most WAL")
        }
        guard ready.contains(instanceName) else {
            return .refused("\(instanceName) is not ready; name a ready standby, or * for the one that received the most WAL")
        }
        guard let state = states[instanceName] else {
            return .refused("\(instanceName) did not answer; name a standby that is running, or * for the one that received the most WAL")
        }
        guard streams(instanceName) else {
            let why = !state.inRecovery ? "it runs read-write" : !state.streaming ? "its WAL receiver is not streaming" : "it streams from elsewhere"
            return .refused(
                "\(instanceName) is not a streaming standby of the primary \(primary) (\(why)); promoting it could lose transactions: wait until it streams from \(primary), or name another standby or *"
            )
        }
        return .promote(instanceName)
    }

    /// Per component two steps: the new primary runs read-write and is labelled so (the read-write Service selects
    /// it), and the former primary is back as a ready standby.
    public static func progress(
        from former: String, to designated: String, pods: [CoreV1.Pod]
    ) -> (done: Int, total: Int) {
        func pod(_ name: String) -> CoreV1.Pod? {
            pods.first { $0.metadata?.name == name && $0.metadata?.deletionTimestamp == nil }
        }
        func has(_ name: String, role: String) -> Bool {
            guard let pod = pod(name) else { return false }
            return ClusterStatusCalculator.isReady(pod) && pod.metadata?.labels?[ClusterNames.roleLabel] == role
        }
        let promoted = has(designated, role: PgvectorAdapter.primary)
        let rejoined = promoted && has(former, role: PgvectorAdapter.secondary)
        return ((promoted ? 1 : 0) + (rejoined ? 1 : 0), 2)
    }
}
