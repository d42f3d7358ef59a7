import KubeKit
import OperatorKit
import VectorBlocksAPI

/// Publishes whether each ClusterDefinition is usable: Available, or Unavailable with every problem named.
public struct ClusterDefinitionReconciler: Reconciler {
    let definitions: ObjectCache<ClusterDefinition>
    let status: AvailabilityStatusWriter

    public init(client: KubeClient, definitions: ObjectCache<ClusterDefinition>, events: EventRecorder) {
        self.definitions = definitions
        self.status = AvailabilityStatusWriter(client: client, events: events)
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let definition = await definitions.get(key) else { return .done }
        try await status.publish(definition, current: definition.status, problems: definition.validate())
        return .done
    }
}
