import Foundation
import KubeKit

/// The failover's decisions, as pure functions of the pods the operator sees and what the replicas report.
public enum FailoverPlan {
    /// Whether the designated primary is unavailable: its pod is gone, going, or not ready.
    public static func primaryUnavailable(_ designated: String, pods: [CoreV1.Pod]) -> Bool {
        guard let pod = pods.first(where: { $0.metadata?.name == designated }) else { return true }
        return pod.metadata?.deletionTimestamp != nil || !ClusterStatusCalculator.isReady(pod)
    }

    /// What a failover can do with the standbys' answers.
    public enum Choice: Equatable, Sendable {
        /// Promote this standby: of every ready standby, it received the most WAL (the fewest transactions lost).
        case promote(String)
        /// Wait: these ready standbys did not say how much WAL they received, and any of them may hold the most.
        /// Promoting another would lose what they received, and leave them ahead of the new timeline's fork.
        case awaitPositions([String])
        /// Wait: these standbys still stream from the primary being replaced. Bytes it sent before it died may still
        /// arrive, so their positions are not final; and while they stream, it may still be running. (CloudNativePG
        /// also elects only once every WAL receiver stopped.)
        case awaitReceivers([String])
        /// No ready standby can be promoted.
        case noStandby
    }

    /// The standby to promote: the one that received the most WAL, the lowest ordinal among equals; only ready pods
    /// that answered as standbys, never `excluding`, and only once every ready pod answered and stopped receiving.
    public static func candidate(_ states: [String: ReplicaState], pods: [CoreV1.Pod], excluding: String) -> Choice {
        let ready = Set(pods.filter(ClusterStatusCalculator.isReady).compactMap { $0.metadata?.name }).subtracting([excluding])
        let silent = ready.subtracting(states.keys)
        if !silent.isEmpty { return .awaitPositions(silent.sorted()) }
        let streaming = states.filter { ready.contains($0.key) && $0.value.inRecovery && $0.value.streaming }.keys
        if !streaming.isEmpty { return .awaitReceivers(streaming.sorted()) }
        let best = states.filter { ready.contains($0.key) && $0.value.inRecovery && $0.value.receivedLSN != nil }
            .sorted { lhs, rhs in
                let (left, right) = (lhs.value.receivedLSN?.value ?? 0, rhs.value.receivedLSN?.value ?? 0)
                if left != right { return left > right }
                return (EngineComponent.ordinal(inPodName: lhs.key) ?? .max) < (EngineComponent.ordinal(inPodName: rhs.key) ?? .max)
            }
            .first?.key
        return best.map(Choice.promote) ?? .noStandby
    }

    /// The primary to record for a component that has none recorded: the one server that already runs read-write (a
    /// Cluster made before the operator designated primaries, or pod 0 as it founded the component). With none (or
    /// several), ordinal 0, the pods' default designation, once its pod is unavailable and a standby answered, so
    /// that the failover replaces it; nil while it may still come up read-write.
    public static func initialPrimary(_ states: [String: ReplicaState], ordinalZero: String, pods: [CoreV1.Pod]) -> String? {
        let writable = states.filter { !$0.value.inRecovery }.map(\.key)
        if writable.count == 1 { return writable[0] }
        // Recorded only when a standby answered, one the failover can promote.
        return primaryUnavailable(ordinalZero, pods: pods) && !states.isEmpty ? ordinalZero : nil
    }

    /// Pods other than the designated primary that run read-write: former primaries to fence.
    public static func strayPrimaries(_ states: [String: ReplicaState], designated: String) -> [String] {
        states.filter { $0.key != designated && !$0.value.inRecovery }.map(\.key).sorted()
    }

    /// Standbys whose upstream is not the designated primary.
    public static func standbysToRepoint(
        _ states: [String: ReplicaState], designated: String, isFollowing: (ReplicaState) -> Bool
    ) -> [String] {
        states.filter { $0.key != designated && $0.value.inRecovery && !isFollowing($0.value) }.map(\.key).sorted()
    }

    /// The value of `key` in a libpq connection string of `key=value` pairs (values possibly single-quoted).
    public static func connectionParameter(_ key: String, in conninfo: String) -> String? {
        for pair in conninfo.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == key else { continue }
            return parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        return nil
    }

    /// A standby's connection string to `host:port`; the password comes from the pod's password file.
    public static func upstream(host: String, port: Int, user: String, applicationName: String) -> String {
        "host=\(host) port=\(port) user=\(user) application_name=\(applicationName)"
    }
}
