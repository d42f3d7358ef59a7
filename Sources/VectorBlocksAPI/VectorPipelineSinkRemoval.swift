import KubeKit

/// Where a sink's data lives: its kind, table or collection, and the Cluster or endpoint that holds it.
public struct SinkTarget: Codable, Sendable, Hashable, SchemaDescribed {
    public var kind: VectorPipelineSpec.Sink.Kind
    public var collection: String
    public var clusterRef: VectorPipelineSpec.Sink.ClusterRef?
    public var endpoint: VectorPipelineSpec.Sink.Endpoint?

    public init(
        kind: VectorPipelineSpec.Sink.Kind, collection: String, clusterRef: VectorPipelineSpec.Sink.ClusterRef? = nil,
        endpoint: VectorPipelineSpec.Sink.Endpoint? = nil
    ) {
        self.kind = kind
        self.collection = collection
        self.clusterRef = clusterRef
        self.endpoint = endpoint
    }

    /// The same target with the Cluster's namespace spelled out, so that `clusterRef.namespace` unset and set to the
    /// pipeline's own namespace compare equal.
    public func resolved(in namespace: String) -> SinkTarget {
        var copy = self
        if var reference = copy.clusterRef {
            reference.namespace = reference.namespace ?? namespace
            copy.clusterRef = reference
        }
        return copy
    }

    /// `pgvector table vectors.documents in Cluster embeddings`, for messages.
    public var description: String {
        let what = kind == .pgvector ? "pgvector table \(collection)" : "Qdrant collection \(collection)"
        if let reference = clusterRef { return "\(what) in Cluster \(reference.name)" }
        return "\(what) at \(endpoint?.url ?? "an unnamed endpoint")"
    }

    public static let schema = Schema.object(
        [
            "kind": .string(oneOf: VectorPipelineSpec.Sink.Kind.self),
            "collection": .string(),
            "clusterRef": .of(VectorPipelineSpec.Sink.ClusterRef.self),
            "endpoint": .of(VectorPipelineSpec.Sink.Endpoint.self),
        ], required: ["kind", "collection"])
}

/// A sink removed from the pipeline's spec, and what became of its data.
public struct RemovedSink: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var target: SinkTarget
    public var deletionPolicy: VectorPipelineSpec.Sink.DeletionPolicy
    public var state: State
    /// Why it is in this state: what the drop waits for, what was dropped, or why the data was kept.
    public var message: String?
    /// When it entered this state.
    public var time: MetaV1.Time?

    /// How many removed sinks the status lists: the oldest settled ones give way.
    public static let kept = 16

    public init(
        name: String, target: SinkTarget, deletionPolicy: VectorPipelineSpec.Sink.DeletionPolicy, state: State, message: String? = nil,
        time: MetaV1.Time? = nil
    ) {
        self.name = name
        self.target = target
        self.deletionPolicy = deletionPolicy
        self.state = state
        self.message = message
        self.time = time
    }

    public enum State: String, Codable, Sendable, Hashable, CaseIterable {
        /// `deletionPolicy: Retain`: the data stays.
        case retained = "Retained"
        /// `deletionPolicy: Delete`: the drop waits (for Emu's rollout, or for the sink to answer).
        case pending = "Pending"
        /// The operator dropped the table or collection.
        case deleted = "Deleted"
        /// The table or collection was not there to drop (or its Cluster is gone).
        case gone = "Gone"
        /// Not dropped: its record names another maker than this pipeline, or none.
        case kept = "Kept"

        /// Whether the operator has nothing more to do for it.
        public var isSettled: Bool { self != .pending }
    }

    public static let schema = Schema.object(
        [
            "name": .string(),
            "target": .of(SinkTarget.self),
            "deletionPolicy": .string(oneOf: VectorPipelineSpec.Sink.DeletionPolicy.self),
            "state": .string(oneOf: State.self),
            "message": .string(),
            "time": .string(format: "date-time"),
        ], required: ["name", "target", "deletionPolicy", "state"])
}

extension VectorPipelineStatus {
    /// The conditions about removed sinks' data; set once a sink with `deletionPolicy: Delete` was removed.
    public enum SinkRemovalCondition: String, CaseIterable, Sendable {
        /// True once every removed `Delete` sink's data is dropped (or was not there); False while a drop waits.
        case removedSinksDeleted = "RemovedSinksDeleted"
        /// True while a removed `Delete` sink's data was kept because this pipeline did not make it.
        case sinkDataNotDeleted = "SinkDataNotDeleted"
    }
}
