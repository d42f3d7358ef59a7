import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Synchronous replication: the designated primary's `synchronous_standby_names` kept in step with the standbys
/// that exist. Set on the designated pod before it is promoted as well, so its first commit as a primary already
/// waits for a standby.
extension EngineHooks {
    func keepSynchronousStandbys(
        _ engine: EngineComponent, replication: any ReplicationEngine, spec: ClusterComponentSpec, on primary: CoreV1.Pod
    ) async throws {
        guard let name = primary.metadata?.name else { return }
        let wanted = SynchronousStandbys.setting(
            number: spec.replication?.synchronous?.number, primary: name, pods: engine.pods, replicas: spec.replicas ?? 1)
        let key = EngineObservations.Key(names: engine.names, component: engine.component)
        let uid = primary.metadata?.uid ?? ""
        guard await !synchronousStandbys.isApplied(key, uid: uid, setting: wanted) else { return }
        let current = try await replication.synchronousStandbys(primary, in: engine)
        if current != wanted {
            try await replication.setSynchronousStandbys(wanted, on: primary, in: engine)
            logger.info(
                "synchronous standbys set",
                metadata: ["pod": "\(engine.names.namespace)/\(name)", "synchronous_standby_names": "\(wanted)", "was": "\(current)"])
        }
        await synchronousStandbys.record(key, uid: uid, setting: wanted)
    }

    /// The designated primary's pod when it is ready: a setting is only made on a server that can take it.
    static func readyDesignatedPod(_ engine: EngineComponent) -> CoreV1.Pod? {
        guard let designated = engine.designatedPrimary else { return nil }
        return engine.pods.first { $0.metadata?.name == designated && $0.metadata?.deletionTimestamp == nil && ClusterStatusCalculator.isReady($0) }
    }
}
