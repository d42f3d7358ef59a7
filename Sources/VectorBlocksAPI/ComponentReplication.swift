import KubeKit

/// How a Replication component (a primary and streaming standbys, e.g. pgvector) keeps its primary.
public struct ComponentReplication: Codable, Sendable, Hashable, SchemaDescribed {
    /// How long the designated primary must stay unavailable (pod gone or not ready) before the operator promotes
    /// a standby; 0, the default, promotes at once, as CloudNativePG does.
    public var failoverDelaySeconds: Int32?
    /// Commits wait for this many standbys (synchronous replication); unset, they do not wait (asynchronous).
    public var synchronous: SynchronousReplication?
    /// The most WAL the primary keeps for standbys' replication slots (`max_slot_wal_keep_size`); unset, a quarter
    /// of the data volume (see `slotWALKeepBytes`).
    public var slotMaxWALKeepSize: Quantity?

    public init(failoverDelaySeconds: Int32? = nil, synchronous: SynchronousReplication? = nil, slotMaxWALKeepSize: Quantity? = nil) {
        self.failoverDelaySeconds = failoverDelaySeconds
        self.synchronous = synchronous
        self.slotMaxWALKeepSize = slotMaxWALKeepSize
    }

    public static let schema = Schema.object([
        "failoverDelaySeconds": Schema.integer(minimum: 0).defaulting(to: 0)
            .describing("Seconds the primary must stay unavailable before a standby is promoted; 0 promotes at once."),
        "synchronous": .of(SynchronousReplication.self),
        "slotMaxWALKeepSize": Schema.quantity.describing(
            "The most WAL the primary keeps for a standby's replication slot (max_slot_wal_keep_size), at least 1Mi and less than the data volume; a standby further behind re-clones. Default: a quarter of the data volume, 1Gi without one."
        ),
    ])

    /// The delay, its default filled in.
    public var failoverDelay: Duration { .seconds(Int64(max(failoverDelaySeconds ?? 0, 0))) }
}

extension Cluster {
    /// `replication` only on components whose definition is a Replication workload, with a delay of 0 or more.
    func validateReplication(definition: ClusterDefinition?) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, component) in spec.componentSpecs.enumerated() {
            guard let replication = component.replication else { continue }
            let path = "spec.componentSpecs[\(index)].replication"
            if let delay = replication.failoverDelaySeconds, delay < 0 {
                errors.append(
                    FieldError(
                        field: "\(path).failoverDelaySeconds", message: "Invalid value: \(delay): must be greater than or equal to 0",
                        fix: "set 0 to promote a standby at once, or the seconds to wait"))
            }
            errors += replication.synchronous?.validate(at: "\(path).synchronous", replicas: component.replicas ?? 1) ?? []
            errors += replication.validateSlotMaxWALKeepSize(at: "\(path).slotMaxWALKeepSize", volume: component.storage(of: "data"))
            if let definition, let componentDef = definition.componentDef(named: component.componentDefRef),
                componentDef.workloadType != .replication
            {
                errors.append(
                    FieldError(
                        field: path,
                        message:
                            "Forbidden: component \"\(componentDef.name)\" of ClusterDefinition \"\(definition.metadata?.name ?? "")\" is a \(componentDef.workloadType.rawValue) workload, which has no primary to fail over",
                        fix: "remove replication from this component; it applies to Replication workloads such as pgvector"))
            }
        }
        return errors
    }
}
