import KubeKit
import OperatorKit
import VectorBlocksAPI

/// Publishes whether each ClusterVersion is usable: its ClusterDefinition exists and is Available, and the version
/// covers the definition's components. Re-checked when the definition changes (see `affectedVersions`).
public struct ClusterVersionReconciler: Reconciler {
    let versions: ObjectCache<ClusterVersion>
    let definitions: ObjectCache<ClusterDefinition>
    let status: AvailabilityStatusWriter

    public init(
        client: KubeClient, versions: ObjectCache<ClusterVersion>, definitions: ObjectCache<ClusterDefinition>,
        events: EventRecorder
    ) {
        self.versions = versions
        self.definitions = definitions
        self.status = AvailabilityStatusWriter(client: client, events: events)
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let version = await versions.get(key) else { return .done }
        let reference = version.spec.clusterDefinitionRef
        guard let definition = await definitions.get(name: reference) else {
            let missing = FieldError(
                field: "spec.clusterDefinitionRef", message: "ClusterDefinition \"\(reference)\" not found",
                fix: "install the addon that provides it, or name an existing ClusterDefinition")
            try await status.publish(version, current: version.status, problems: [missing])
            return .done
        }
        var problems = version.validate(definition: definition)
        if definition.status?.phase == .unavailable {
            problems.append(
                FieldError(
                    field: "spec.clusterDefinitionRef", message: "ClusterDefinition \"\(reference)\" is Unavailable",
                    fix: "fix the ClusterDefinition: \(definition.status?.message ?? "see its status")"))
        }
        try await status.publish(
            version, current: version.status, problems: problems,
            clusterDefGeneration: definition.metadata?.generation)
        return .done
    }

    /// The versions to re-check when a definition changes: those that refer to it.
    public static func affectedVersions(
        of event: InformerEvent<ClusterDefinition>, in versions: ObjectCache<ClusterVersion>
    ) async -> [ObjectKey] {
        guard let name = event.object.metadata?.name else { return [] }
        return await versions.list().filter { $0.spec.clusterDefinitionRef == name }.compactMap { ObjectKey($0) }
    }
}
