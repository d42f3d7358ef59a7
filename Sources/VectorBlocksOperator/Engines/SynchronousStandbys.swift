import KubeKit

/// The `synchronous_standby_names` a primary keeps, as a pure function of the component's pods: `ANY n (...)` of
/// the standbys that exist, by their application_name (the pod's name, which the setup script and the operator's
/// re-pointing give each standby). A pod that is gone, or leaves in a scale-in, is never listed: a commit must not
/// wait for a standby that will never confirm it.
public enum SynchronousStandbys {
    /// "" (commits wait for no standby) when `number` is nil or no standby exists; `number` is capped at the
    /// standbys that exist, since PostgreSQL would otherwise wait for confirmations that cannot come.
    public static func setting(number: Int32?, primary: String, pods: [CoreV1.Pod], replicas: Int32) -> String {
        guard let number, number > 0 else { return "" }
        let standbys = pods.compactMap { pod -> (ordinal: Int, name: String)? in
            guard let name = pod.metadata?.name, name != primary, let ordinal = EngineComponent.ordinal(inPodName: name),
                ordinal < Int(replicas)
            else { return nil }
            return (ordinal, name)
        }
        .sorted { $0.ordinal < $1.ordinal }.map(\.name)
        guard !standbys.isEmpty else { return "" }
        let quoted = standbys.map { "\"\($0)\"" }.joined(separator: ", ")
        return "ANY \(min(Int(number), standbys.count)) (\(quoted))"
    }
}

/// The setting last found or made on each component's primary (by the primary pod's uid), so it is asked again only
/// when the wanted setting or the primary changes. Kept in memory: an operator that restarts asks once more.
actor AppliedSynchronousStandbys {
    private var applied: [EngineObservations.Key: (uid: String, setting: String)] = [:]

    func isApplied(_ key: EngineObservations.Key, uid: String, setting: String) -> Bool {
        applied[key].map { $0.uid == uid && $0.setting == setting } ?? false
    }

    func record(_ key: EngineObservations.Key, uid: String, setting: String) {
        applied[key] = (uid, setting)
    }
}
