import KubeKit

/// Keeps vector stores in step with a Postgres table (DESIGN §5): Pelican captures the table's changes into a queue
/// and backfills it, Emu embeds each changed row and upserts it into every sink. Namespaced.
public struct VectorPipeline: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "VectorPipeline",
        plural: "vectorpipelines", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: VectorPipelineSpec
    public var status: VectorPipelineStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: VectorPipelineSpec, status: VectorPipelineStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(VectorPipelineSpec.self),
            "status": .of(VectorPipelineStatus.self),
        ], required: ["spec"])
}

/// A key of a Secret in the pipeline's namespace.
public struct SecretKeyRef: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var key: String

    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    public static let schema = Schema.object(
        [
            "name": .string(pattern: #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#, maxLength: 253),
            "key": .string(pattern: #"^[-._a-zA-Z0-9]+$"#, maxLength: 253),
        ], required: ["name", "key"])
}

public struct VectorPipelineSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var source: Source
    public var queue: Queue?
    public var embedder: Embedder
    public var sinks: [Sink]
    public var scaling: Scaling?
    public var verify: Verify?

    public init(source: Source, queue: Queue? = nil, embedder: Embedder, sinks: [Sink], scaling: Scaling? = nil, verify: Verify? = nil) {
        self.source = source
        self.queue = queue
        self.embedder = embedder
        self.sinks = sinks
        self.scaling = scaling
        self.verify = verify
    }

    /// The table whose rows become vectors.
    public struct Source: Codable, Sendable, Hashable, SchemaDescribed {
        /// A libpq connection URI (`postgres://user:password@host:5432/db`) in a Secret.
        public var connectionSecretRef: SecretKeyRef
        /// `table` or `schema.table`.
        public var table: String
        /// The primary key columns; their values become the vector's id: one column's text as it is, several as the
        /// JSON array of their texts in this order (`["7", "en"]`).
        public var primaryKey: [String]
        /// The text that is embedded: literal text with `{column}` placeholders, `{title}\n\n{body}` (`{{` and `}}`
        /// are literal braces, as in `pelican` and `emu`'s `--text-template`). A Mustache `{{title}}` is refused.
        public var textTemplate: String
        /// Columns copied into the vector's payload (Qdrant) or row (pgvector).
        public var payloadColumns: [String]?
        /// Whether the rows already in the table are embedded too, not only later changes.
        public var backfill: Bool?
        /// What deleting the pipeline does to its capture trigger and its state in the source database (outbox
        /// rows, checkpoint, queued and dead-lettered messages). The user's table is never touched.
        public var onDelete: StateOnDelete?

        public init(
            connectionSecretRef: SecretKeyRef, table: String, primaryKey: [String], textTemplate: String,
            payloadColumns: [String]? = nil, backfill: Bool? = nil, onDelete: StateOnDelete? = nil
        ) {
            self.connectionSecretRef = connectionSecretRef
            self.table = table
            self.primaryKey = primaryKey
            self.textTemplate = textTemplate
            self.payloadColumns = payloadColumns
            self.backfill = backfill
            self.onDelete = onDelete
        }

        public enum StateOnDelete: String, Codable, Sendable, Hashable, CaseIterable {
            /// Drop the trigger and delete the pipeline's rows of the `vectorsync` tables.
            case remove = "Remove"
            /// Leave both: a pipeline made again under the same name and namespace continues where this one stopped.
            case keep = "Keep"
        }

        static let identifierPattern = "^[A-Za-z_][A-Za-z0-9_$]{0,62}$"

        public static let schema = Schema.object(
            [
                "connectionSecretRef": .of(SecretKeyRef.self),
                "table": .string(pattern: "^([A-Za-z_][A-Za-z0-9_$]{0,62}\\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$"),
                "primaryKey": .array(of: .string(pattern: identifierPattern), minItems: 1, maxItems: 8),
                "textTemplate": .string(minLength: 1, maxLength: 4096),
                "payloadColumns": .array(of: .string(pattern: identifierPattern), maxItems: 64),
                "backfill": Schema.boolean.defaulting(to: true),
                "onDelete": Schema.string(oneOf: StateOnDelete.self).defaulting(to: "Remove"),
            ], required: ["connectionSecretRef", "table", "primaryKey", "textTemplate"])
    }

    /// Where change messages (`{table, pk, op, seq}`) wait for Emu.
    public struct Queue: Codable, Sendable, Hashable, SchemaDescribed {
        public var kind: Kind?
        /// How long a received message stays invisible before another worker may take it.
        public var visibilityTimeoutSeconds: Int32?
        /// Receives after which a message goes to the dead-letter queue.
        public var maxReceiveCount: Int32?
        public var sqs: SQS?

        public init(kind: Kind? = nil, visibilityTimeoutSeconds: Int32? = nil, maxReceiveCount: Int32? = nil, sqs: SQS? = nil) {
            self.kind = kind
            self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
            self.maxReceiveCount = maxReceiveCount
            self.sqs = sqs
        }

        public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
            /// A jobs table in the source database.
            case postgres
            /// Amazon SQS, with redrive to a dead-letter queue.
            case sqs
        }

        public struct SQS: Codable, Sendable, Hashable, SchemaDescribed {
            public var queueURL: String
            public var deadLetterQueueURL: String?
            public var region: String
            /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; without it, the pod's IAM role (IRSA) is used.
            public var credentialsSecretName: String?

            public init(queueURL: String, deadLetterQueueURL: String? = nil, region: String, credentialsSecretName: String? = nil) {
                self.queueURL = queueURL
                self.deadLetterQueueURL = deadLetterQueueURL
                self.region = region
                self.credentialsSecretName = credentialsSecretName
            }

            public static let schema = Schema.object(
                [
                    "queueURL": .string(pattern: "^https?://"),
                    "deadLetterQueueURL": .string(pattern: "^https?://"),
                    "region": .string(pattern: "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"),
                    "credentialsSecretName": .string(maxLength: 253),
                ], required: ["queueURL", "region"])
        }

        public static let schema = Schema.object([
            "kind": Schema.string(oneOf: Kind.self).defaulting(to: "postgres"),
            "visibilityTimeoutSeconds": Schema.integer(minimum: 1, maximum: 43_200).defaulting(to: 60),
            "maxReceiveCount": Schema.integer(minimum: 1, maximum: 1000).defaulting(to: 5),
            "sqs": .of(SQS.self),
        ])
    }

    /// What turns text into vectors. Vectors are L2-normalised.
    public struct Embedder: Codable, Sendable, Hashable, SchemaDescribed {
        public var kind: Kind
        /// The model name sent to the endpoint (`text-embedding-3-small`); required for `openai`.
        public var model: String?
        public var dimension: Int32
        public var batchSize: Int32?
        public var openai: OpenAI?

        public init(kind: Kind, model: String? = nil, dimension: Int32, batchSize: Int32? = nil, openai: OpenAI? = nil) {
            self.kind = kind
            self.model = model
            self.dimension = dimension
            self.batchSize = batchSize
            self.openai = openai
        }

        public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
            /// Deterministic feature hashing: no model, for tests and demos.
            case hash
            /// Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, TEI, vLLM, Ollama).
            case openai
            /// all-MiniLM-L6-v2 computed inside Emu (384 dimensions), from the weights the Emu image carries.
            case minilm
        }

        public struct OpenAI: Codable, Sendable, Hashable, SchemaDescribed {
            /// The API root, `https://api.openai.com/v1`.
            public var baseURL: String
            public var apiKeySecretRef: SecretKeyRef?

            public init(baseURL: String, apiKeySecretRef: SecretKeyRef? = nil) {
                self.baseURL = baseURL
                self.apiKeySecretRef = apiKeySecretRef
            }

            public static let schema = Schema.object(
                [
                    "baseURL": .string(pattern: "^https?://"),
                    "apiKeySecretRef": .of(SecretKeyRef.self),
                ], required: ["baseURL"])
        }

        public static let schema = Schema.object(
            [
                "kind": .string(oneOf: Kind.self),
                "model": .string(maxLength: 256),
                "dimension": .integer(minimum: 1, maximum: 65_536),
                "batchSize": Schema.integer(minimum: 1, maximum: 2048).defaulting(to: 64),
                "openai": .of(OpenAI.self),
            ], required: ["kind", "dimension"])
    }

    /// A vector store the pipeline writes to: a Cluster of this operator or an external endpoint.
    public struct Sink: Codable, Sendable, Hashable, SchemaDescribed {
        public var name: String
        public var kind: Kind
        public var clusterRef: ClusterRef?
        public var endpoint: Endpoint?
        /// The Qdrant collection, or the pgvector table (`schema.table`).
        public var collection: String
        public var metric: Metric?
        /// What removing the sink from the spec (or deleting the pipeline) does to its data.
        public var deletionPolicy: DeletionPolicy?

        public init(
            name: String, kind: Kind, clusterRef: ClusterRef? = nil, endpoint: Endpoint? = nil, collection: String, metric: Metric? = nil,
            deletionPolicy: DeletionPolicy? = nil
        ) {
            self.name = name
            self.kind = kind
            self.clusterRef = clusterRef
            self.endpoint = endpoint
            self.collection = collection
            self.metric = metric
            self.deletionPolicy = deletionPolicy
        }

        public enum DeletionPolicy: String, Codable, Sendable, Hashable, CaseIterable {
            /// The table or collection stays with its vectors.
            case retain = "Retain"
            /// Once no Emu writes it any more, the table or collection is dropped, if the sink's record names this
            /// pipeline as its maker (Emu records it when it creates the sink); one made by anyone else is kept.
            case delete = "Delete"
        }

        /// Where the sink's data lives, without its name: what the operator needs to drop it once the sink is gone
        /// from the spec.
        public var target: SinkTarget {
            SinkTarget(kind: kind, collection: collection, clusterRef: clusterRef, endpoint: endpoint)
        }

        public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
            case qdrant
            case pgvector
        }

        public enum Metric: String, Codable, Sendable, Hashable, CaseIterable {
            case cosine = "Cosine"
            case dot = "Dot"
            case euclid = "Euclid"
        }

        /// A Cluster of this operator; its `<name>-conn-credential` Secret gives the address and credential.
        public struct ClusterRef: Codable, Sendable, Hashable, SchemaDescribed {
            public var name: String
            /// The pipeline's namespace when unset.
            public var namespace: String?

            public init(name: String, namespace: String? = nil) {
                self.name = name
                self.namespace = namespace
            }

            public static let schema = Schema.object(
                [
                    "name": .string(pattern: ClusterSpec.referencePattern, maxLength: 63),
                    "namespace": .dnsLabel(),
                ], required: ["name"])
        }

        /// A store outside the operator: a Qdrant URL (`https://xyz.cloud.qdrant.io:6333`) or a Postgres URI.
        public struct Endpoint: Codable, Sendable, Hashable, SchemaDescribed {
            public var url: String
            /// The Qdrant API key, or the Postgres URI with its password when `url` has none.
            public var credentialsSecretRef: SecretKeyRef?

            public init(url: String, credentialsSecretRef: SecretKeyRef? = nil) {
                self.url = url
                self.credentialsSecretRef = credentialsSecretRef
            }

            public static let schema = Schema.object(
                [
                    "url": .string(pattern: "^(https?|postgres|postgresql)://"),
                    "credentialsSecretRef": .of(SecretKeyRef.self),
                ], required: ["url"])
        }

        public static let schema = Schema.object(
            [
                "name": .dnsLabel(maxLength: 32),
                "kind": .string(oneOf: Kind.self),
                "clusterRef": .of(ClusterRef.self),
                "endpoint": .of(Endpoint.self),
                "collection": .string(pattern: "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"),
                "metric": Schema.string(oneOf: Metric.self).defaulting(to: "Cosine"),
                "deletionPolicy": Schema.string(oneOf: DeletionPolicy.self).defaulting(to: "Retain"),
            ], required: ["name", "kind", "collection"])
    }

    /// How many Emu workers run: following the backlog (computed by the operator), or an HPA on CPU.
    public struct Scaling: Codable, Sendable, Hashable, SchemaDescribed {
        public var mode: Mode?
        public var minReplicas: Int32?
        public var maxReplicas: Int32?
        public var targetBacklogPerReplica: Int32?
        public var targetCPUUtilizationPercentage: Int32?
        public var scaleUpCooldownSeconds: Int32?
        public var scaleDownCooldownSeconds: Int32?

        public init(
            mode: Mode? = nil, minReplicas: Int32? = nil, maxReplicas: Int32? = nil, targetBacklogPerReplica: Int32? = nil,
            targetCPUUtilizationPercentage: Int32? = nil, scaleUpCooldownSeconds: Int32? = nil, scaleDownCooldownSeconds: Int32? = nil
        ) {
            self.mode = mode
            self.minReplicas = minReplicas
            self.maxReplicas = maxReplicas
            self.targetBacklogPerReplica = targetBacklogPerReplica
            self.targetCPUUtilizationPercentage = targetCPUUtilizationPercentage
            self.scaleUpCooldownSeconds = scaleUpCooldownSeconds
            self.scaleDownCooldownSeconds = scaleDownCooldownSeconds
        }

        public enum Mode: String, Codable, Sendable, Hashable, CaseIterable {
            case backlog = "Backlog"
            case cpu = "CPU"
        }

        public static let schema = Schema.object([
            "mode": Schema.string(oneOf: Mode.self).defaulting(to: "Backlog"),
            "minReplicas": Schema.integer(minimum: 0).defaulting(to: 1),
            "maxReplicas": Schema.integer(minimum: 1).defaulting(to: 10),
            "targetBacklogPerReplica": Schema.integer(minimum: 1).defaulting(to: 1000),
            "targetCPUUtilizationPercentage": .integer(minimum: 1, maximum: 100),
            "scaleUpCooldownSeconds": Schema.integer(minimum: 0).defaulting(to: 30),
            "scaleDownCooldownSeconds": Schema.integer(minimum: 0).defaulting(to: 300),
        ])
    }

    public static let schema = Schema.object(
        [
            "source": .of(Source.self),
            "queue": .of(Queue.self),
            "embedder": .of(Embedder.self),
            "sinks": .array(of: .of(Sink.self), listMapKeys: ["name"], minItems: 1, maxItems: 8),
            "scaling": .of(Scaling.self),
            "verify": .of(Verify.self),
        ], required: ["source", "embedder", "sinks"])
}

public enum VectorPipelinePhase: String, Codable, Sendable, Hashable, CaseIterable {
    /// Waiting: a Secret, a sink's Cluster, or the workers' first report.
    case pending = "Pending"
    /// Pelican is walking the rows that were in the table before capture.
    case backfilling = "Backfilling"
    /// Every row has been queued once; changes flow as they happen.
    case streaming = "Streaming"
    /// Running, but messages are dead-lettered, a sink is not ready or the workers are not all available.
    case degraded = "Degraded"
    /// The spec cannot run as it is (a condition names the field).
    case failed = "Failed"
}

public struct VectorPipelineStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var phase: VectorPipelinePhase?
    public var observedGeneration: Int64?
    /// Messages waiting in the queue (the postgres jobs table, or SQS's ApproximateNumberOfMessages).
    public var backlog: Int64?
    /// Messages moved to the dead-letter queue.
    public var deadLetters: Int64?
    public var sinks: [SinkStatus]?
    public var conditions: [MetaV1.Condition]?
    /// Rows the backfill has queued, of the rows in the table (an estimate for large tables) when it began.
    public var backfill: Backfill?
    /// Seconds the oldest waiting message (captured change or queued message) has waited: how far the sinks lag.
    public var lagSeconds: Int64?
    /// The error of the most recent dead letter, as the worker recorded it.
    public var lastDeadLetterError: String?
    /// Emu's replicas as the scaler last set them, and when.
    public var emuReplicas: Int32?
    public var lastScaleTime: MetaV1.Time?
    /// The pipeline's name in the source database (its trigger, state row, queue): the name, `_` for `-`, and a
    /// hash of the namespace and name.
    public var sourceStateName: String?
    /// When the last verify of the sinks against the source finished (see `spec.verify`).
    public var lastVerifyTime: MetaV1.Time?
    /// Sinks removed from the spec, with what became of their data (their `deletionPolicy`).
    public var removedSinks: [RemovedSink]?

    public init(
        phase: VectorPipelinePhase? = nil, observedGeneration: Int64? = nil, backlog: Int64? = nil,
        deadLetters: Int64? = nil, sinks: [SinkStatus]? = nil, conditions: [MetaV1.Condition]? = nil, backfill: Backfill? = nil,
        lagSeconds: Int64? = nil, lastDeadLetterError: String? = nil, emuReplicas: Int32? = nil, lastScaleTime: MetaV1.Time? = nil,
        sourceStateName: String? = nil, lastVerifyTime: MetaV1.Time? = nil, removedSinks: [RemovedSink]? = nil
    ) {
        self.phase = phase
        self.observedGeneration = observedGeneration
        self.backlog = backlog
        self.deadLetters = deadLetters
        self.sinks = sinks
        self.conditions = conditions
        self.backfill = backfill
        self.lagSeconds = lagSeconds
        self.lastDeadLetterError = lastDeadLetterError
        self.emuReplicas = emuReplicas
        self.lastScaleTime = lastScaleTime
        self.sourceStateName = sourceStateName
        self.lastVerifyTime = lastVerifyTime
        self.removedSinks = removedSinks
    }

    public enum ConditionType: String, CaseIterable, Sendable {
        case sourceReady = "SourceReady"
        case captureInstalled = "CaptureInstalled"
        case sinksReady = "SinksReady"
        case backfillComplete = "BackfillComplete"
        case ready = "Ready"
    }

    public struct Backfill: Codable, Sendable, Hashable, SchemaDescribed {
        public var rowsDone: Int64?
        public var rowsTotal: Int64?
        public var complete: Bool?

        public init(rowsDone: Int64? = nil, rowsTotal: Int64? = nil, complete: Bool? = nil) {
            self.rowsDone = rowsDone
            self.rowsTotal = rowsTotal
            self.complete = complete
        }

        public static let schema = Schema.object([
            "rowsDone": .integer(format: "int64", minimum: 0),
            "rowsTotal": .integer(format: "int64", minimum: 0),
            "complete": .boolean,
        ])
    }

    public struct SinkStatus: Codable, Sendable, Hashable, SchemaDescribed {
        public var name: String
        public var ready: Bool?
        public var backfillComplete: Bool?
        public var lastError: String?
        /// Vectors the sink held at its last verify.
        public var rows: Int64?
        public var verify: SinkVerify?
        /// A sink added to the running pipeline: its own backfill (source rows looked at of the table's estimate),
        /// while the other sinks keep streaming.
        public var backfill: Backfill?
        /// How this sink answers against another sink of the pipeline, measured once its own backfill is done.
        public var comparison: SinkComparison?
        /// The sink's `deletionPolicy` and where its data lives, recorded while it is in the spec, so that the
        /// operator still knows both once it is removed.
        public var deletionPolicy: VectorPipelineSpec.Sink.DeletionPolicy?
        public var target: SinkTarget?

        public init(
            name: String, ready: Bool? = nil, backfillComplete: Bool? = nil, lastError: String? = nil, rows: Int64? = nil, verify: SinkVerify? = nil,
            backfill: Backfill? = nil, comparison: SinkComparison? = nil, deletionPolicy: VectorPipelineSpec.Sink.DeletionPolicy? = nil,
            target: SinkTarget? = nil
        ) {
            self.name = name
            self.ready = ready
            self.backfillComplete = backfillComplete
            self.lastError = lastError
            self.rows = rows
            self.verify = verify
            self.backfill = backfill
            self.comparison = comparison
            self.deletionPolicy = deletionPolicy
            self.target = target
        }

        public static let schema = Schema.object(
            [
                "name": .string(),
                "ready": .boolean,
                "backfillComplete": .boolean,
                "lastError": .string(),
                "rows": .integer(format: "int64", minimum: 0),
                "verify": .of(SinkVerify.self),
                "backfill": .of(Backfill.self),
                "comparison": .of(SinkComparison.self),
                "deletionPolicy": .string(oneOf: VectorPipelineSpec.Sink.DeletionPolicy.self),
                "target": .of(SinkTarget.self),
            ], required: ["name"])
    }

    /// Top-k agreement between two sinks, as evidence for cutting reads over: for sampled source rows (each row's
    /// text as the query), the share of the other sink's 10 nearest neighbours that this sink also returns.
    public struct SinkComparison: Codable, Sendable, Hashable, SchemaDescribed {
        /// The sink compared against (a name in `spec.sinks`, or Emu's name for a sink no longer in the spec).
        public var against: String
        /// recall@10 from 0 to 1, three decimals (`"0.985"`).
        public var recallAt10: String
        public var samples: Int32?
        public var time: MetaV1.Time?

        public init(against: String, recallAt10: String, samples: Int32? = nil, time: MetaV1.Time? = nil) {
            self.against = against
            self.recallAt10 = recallAt10
            self.samples = samples
            self.time = time
        }

        public static let schema = Schema.object(
            [
                "against": .string(),
                "recallAt10": .string(pattern: #"^(0(\.[0-9]+)?|1(\.0+)?)$"#),
                "samples": .integer(minimum: 0),
                "time": .string(format: "date-time"),
            ], required: ["against", "recallAt10"])
    }

    public static let schema = Schema.object([
        "phase": .string(oneOf: VectorPipelinePhase.self),
        "observedGeneration": .integer(format: "int64"),
        "backlog": .integer(format: "int64", minimum: 0),
        "deadLetters": .integer(format: "int64", minimum: 0),
        "sinks": .array(of: .of(SinkStatus.self), listMapKeys: ["name"]),
        "conditions": .array(of: .kubernetes("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), listMapKeys: ["type"]),
        "backfill": .of(Backfill.self),
        "lagSeconds": .integer(format: "int64", minimum: 0),
        "lastDeadLetterError": .string(),
        "emuReplicas": .integer(minimum: 0),
        "lastScaleTime": .string(format: "date-time"),
        "sourceStateName": .string(),
        "lastVerifyTime": .string(format: "date-time"),
        "removedSinks": .array(of: .of(RemovedSink.self), maxItems: RemovedSink.kept),
    ])
}

// MARK: Defaults and validation

extension VectorPipeline {
    public func withDefaults() -> VectorPipeline {
        var copy = self
        copy.apiVersion = copy.apiVersion ?? Self.descriptor.apiVersion
        copy.kind = copy.kind ?? Self.descriptor.kind
        copy.spec.source.backfill = copy.spec.source.backfill ?? true
        copy.spec.source.onDelete = copy.spec.source.onDelete ?? .remove
        var queue = copy.spec.queue ?? VectorPipelineSpec.Queue()
        queue.kind = queue.kind ?? .postgres
        queue.visibilityTimeoutSeconds = queue.visibilityTimeoutSeconds ?? 60
        queue.maxReceiveCount = queue.maxReceiveCount ?? 5
        copy.spec.queue = queue
        copy.spec.embedder.batchSize = copy.spec.embedder.batchSize ?? 64
        copy.spec.sinks = copy.spec.sinks.map { sink in
            var sink = sink
            sink.metric = sink.metric ?? .cosine
            sink.deletionPolicy = sink.deletionPolicy ?? .retain
            return sink
        }
        var scaling = copy.spec.scaling ?? VectorPipelineSpec.Scaling()
        scaling.mode = scaling.mode ?? .backlog
        scaling.minReplicas = scaling.minReplicas ?? 1
        scaling.maxReplicas = scaling.maxReplicas ?? 10
        scaling.targetBacklogPerReplica = scaling.targetBacklogPerReplica ?? 1000
        scaling.scaleUpCooldownSeconds = scaling.scaleUpCooldownSeconds ?? 30
        scaling.scaleDownCooldownSeconds = scaling.scaleDownCooldownSeconds ?? 300
        copy.spec.scaling = scaling
        return copy
    }

    /// Every problem the schema cannot express: the parts each kind of queue, embedder and sink needs, one target per
    /// sink, a template that uses the row, and replica bounds in order.
    public func validate() -> [FieldError] {
        let spec = FieldPath("spec")
        var errors: [FieldError] = []
        let source = spec.child("source")
        errors += Check.required(self.spec.source.table, at: source.child("table"), fix: "name the table, e.g. \"public.documents\"")
        if self.spec.source.primaryKey.isEmpty {
            errors.append(
                FieldError(
                    field: source.child("primaryKey").description, message: "Required value",
                    fix: "list the table's primary key columns; they become the vectors' ids"))
        }
        errors += duplicates(self.spec.source.primaryKey, at: source.child("primaryKey"))
        errors += duplicates(self.spec.source.payloadColumns ?? [], at: source.child("payloadColumns"))
        errors += TextTemplateCheck.errors(in: self.spec.source.textTemplate, at: source.child("textTemplate"))

        let queue = spec.child("queue")
        let queueKind = self.spec.queue?.kind ?? .postgres
        if queueKind == .sqs, self.spec.queue?.sqs == nil {
            errors.append(
                FieldError(
                    field: queue.child("sqs").description, message: "Required value: kind sqs needs the queue's URL and region",
                    fix: "set queue.sqs.queueURL and queue.sqs.region"))
        }
        if queueKind == .postgres, self.spec.queue?.sqs != nil {
            errors.append(
                FieldError(
                    field: queue.child("sqs").description, message: "Forbidden: only used with kind sqs",
                    fix: "remove queue.sqs or set queue.kind to sqs"))
        }

        let embedder = spec.child("embedder")
        switch self.spec.embedder.kind {
        case .openai:
            if (self.spec.embedder.model ?? "").isEmpty {
                errors.append(
                    FieldError(
                        field: embedder.child("model").description, message: "Required value: kind openai needs a model",
                        fix: "name the model, e.g. \"text-embedding-3-small\" (dimension 1536)"))
            }
            if self.spec.embedder.openai == nil {
                errors.append(
                    FieldError(
                        field: embedder.child("openai").description, message: "Required value: kind openai needs an endpoint",
                        fix: "set embedder.openai.baseURL, e.g. \"https://api.openai.com/v1\", and apiKeySecretRef"))
            }
        case .minilm:
            if self.spec.embedder.dimension != 384 {
                errors.append(
                    FieldError(
                        field: embedder.child("dimension").description,
                        message: "Invalid value: \(self.spec.embedder.dimension): kind minilm produces 384 dimensions",
                        fix: "set embedder.dimension to 384"))
            }
            if let model = self.spec.embedder.model, !model.isEmpty, model != "sentence-transformers/all-MiniLM-L6-v2" {
                errors.append(
                    FieldError(
                        field: embedder.child("model").description,
                        message: "Invalid value: \"\(model)\": kind minilm runs sentence-transformers/all-MiniLM-L6-v2 only",
                        fix: "remove embedder.model, or use kind openai with an endpoint serving that model"))
            }
            fallthrough
        case .hash:
            if self.spec.embedder.openai != nil {
                errors.append(
                    FieldError(
                        field: embedder.child("openai").description, message: "Forbidden: only used with kind openai",
                        fix: "remove embedder.openai or set embedder.kind to openai"))
            }
        }
        if self.spec.embedder.dimension < 1 {
            errors.append(
                FieldError(
                    field: embedder.child("dimension").description,
                    message: "Invalid value: \(self.spec.embedder.dimension): must be greater than or equal to 1",
                    fix: "set the model's output dimension, e.g. 384 or 1536"))
        }

        let sinks = spec.child("sinks")
        if self.spec.sinks.isEmpty {
            errors.append(
                FieldError(
                    field: sinks.description, message: "Required value: at least one sink",
                    fix: "add a sink with a clusterRef or an endpoint"))
        }
        errors += Check.uniqueNames(self.spec.sinks.map(\.name), at: sinks)
        for (index, sink) in self.spec.sinks.enumerated() {
            let path = sinks.index(index)
            errors += Check.dnsLabel(sink.name, at: path.child("name"), maxLength: 32, what: "sink")
            switch (sink.clusterRef, sink.endpoint) {
            case (nil, nil):
                errors.append(
                    FieldError(
                        field: path.description, message: "Required value: neither clusterRef nor endpoint is set",
                        fix: "set clusterRef to a Cluster of this operator, or endpoint.url to an external store"))
            case (.some, .some):
                errors.append(
                    FieldError(
                        field: path.child("endpoint").description, message: "Forbidden: clusterRef and endpoint are both set",
                        fix: "keep one of them"))
            default:
                break
            }
            if sink.kind == .pgvector, let url = sink.endpoint?.url, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                errors.append(
                    FieldError(
                        field: path.child("endpoint.url").description,
                        message: "Invalid value: \"\(url)\": a pgvector sink needs a Postgres URI",
                        fix: "use postgres://user@host:5432/database"))
            }
            if let url = sink.endpoint?.url, Self.carriesPassword(url) {
                errors.append(
                    FieldError(
                        field: path.child("endpoint.url").description,
                        message: "Invalid value: the URL carries a password, which would be visible in the pipeline and its Deployment",
                        fix: "put the whole URI in a Secret and name it in endpoint.credentialsSecretRef"))
            }
            if sink.kind == .qdrant, let url = sink.endpoint?.url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                errors.append(
                    FieldError(
                        field: path.child("endpoint.url").description,
                        message: "Invalid value: \"\(url)\": a qdrant sink needs an HTTP URL",
                        fix: "use https://host:6333"))
            }
        }

        if let scaling = self.spec.scaling {
            let path = spec.child("scaling")
            if let low = scaling.minReplicas, let high = scaling.maxReplicas, low > high {
                errors.append(
                    FieldError(
                        field: path.child("minReplicas").description,
                        message: "Invalid value: \(low): must be less than or equal to maxReplicas (\(high))",
                        fix: "lower minReplicas or raise maxReplicas"))
            }
            if scaling.mode == .cpu, scaling.targetCPUUtilizationPercentage == nil {
                errors.append(
                    FieldError(
                        field: path.child("targetCPUUtilizationPercentage").description,
                        message: "Required value: mode CPU scales on CPU utilisation", fix: "set a target such as 70"))
            }
        }
        errors += verifyErrors()
        return errors
    }

    /// `scheme://user:password@host`: a password between `:` and `@` in the authority.
    static func carriesPassword(_ url: String) -> Bool {
        guard let schemeEnd = url.range(of: "://") else { return false }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        return authority[..<at].contains(":")
    }

    private func duplicates(_ values: [String], at path: FieldPath) -> [FieldError] {
        var seen: Set<String> = []
        return values.enumerated().compactMap { index, value in
            seen.insert(value).inserted
                ? nil
                : FieldError(field: path.index(index).description, message: "Duplicate value: \"\(value)\"", fix: "list each column once")
        }
    }
}
