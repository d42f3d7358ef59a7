import KubeKit

/// One backup of a Cluster (KubeBlocks' dataprotection Backup): made by hand or by the Cluster's schedule
/// (`spec.backup`), kept in an S3 repository. Namespaced, in the Cluster's namespace.
public struct Backup: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "Backup", plural: "backups", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: BackupSpec
    public var status: BackupStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: BackupSpec, status: BackupStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(BackupSpec.self),
            "status": .of(BackupStatus.self),
        ], required: ["spec"])

    /// The label on every Backup naming its Cluster, so a Cluster's backups are one label selector away.
    public static let clusterLabel = "\(VectorBlocksAPI.group)/cluster"
    /// The label on the Backups the Cluster's schedule made (the ones retention may delete).
    public static let scheduledLabel = "\(VectorBlocksAPI.group)/scheduled"
}

/// How a backup is taken. Only what the operator can do is listed; a method it cannot do is refused by the schema.
public enum BackupMethod: String, Codable, Sendable, Hashable, CaseIterable {
    /// Qdrant: every shard snapshotted on a peer holding an Active replica of it, plus a manifest of the collections.
    case qdrantSnapshot = "qdrant-snapshot"
    /// PostgreSQL: a full physical backup (pg_basebackup, from a streaming standby when there is one) streamed into
    /// S3 by a Job of the cluster's own image, with the WAL that makes it consistent.
    case pgBasebackup = "pg-basebackup"

    /// The ClusterDefinition (engine) the method backs up.
    public var engine: String {
        switch self {
        case .qdrantSnapshot: "qdrant"
        case .pgBasebackup: "postgresql"
        }
    }
}

/// What deleting the Backup object does to its data in the repository.
public enum BackupDeletionPolicy: String, Codable, Sendable, Hashable, CaseIterable {
    /// The objects in S3 are deleted with it.
    case delete = "Delete"
    /// They stay in S3.
    case retain = "Retain"
}

public struct BackupSpec: Codable, Sendable, Hashable, SchemaDescribed {
    /// The Cluster backed up, in the Backup's namespace.
    public var clusterName: String
    public var backupMethod: BackupMethod
    /// Where to keep it; the Cluster's `spec.backup.repository` when empty.
    public var repository: BackupRepository?
    public var deletionPolicy: BackupDeletionPolicy?

    public init(clusterName: String, backupMethod: BackupMethod, repository: BackupRepository? = nil, deletionPolicy: BackupDeletionPolicy? = nil) {
        self.clusterName = clusterName
        self.backupMethod = backupMethod
        self.repository = repository
        self.deletionPolicy = deletionPolicy
    }

    public static let schema = Schema.object(
        [
            "clusterName": Schema.dnsLabel().immutable(message: "clusterName is immutable"),
            "backupMethod": Schema.string(oneOf: BackupMethod.self).immutable(message: "backupMethod is immutable"),
            "repository": Schema.of(BackupRepository.self).immutable(message: "repository is immutable"),
            "deletionPolicy": Schema.string(oneOf: BackupDeletionPolicy.self).defaulting(to: "Delete"),
        ], required: ["clusterName", "backupMethod"])
}

public enum BackupPhase: String, Codable, Sendable, Hashable, CaseIterable {
    case new = "New"
    case running = "Running"
    case completed = "Completed"
    case failed = "Failed"
    case deleting = "Deleting"
}

public struct BackupStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var phase: BackupPhase?
    public var startTimestamp: MetaV1.Time?
    public var completionTimestamp: MetaV1.Time?
    /// When retention deletes it (scheduled backups only).
    public var expiration: MetaV1.Time?
    /// Bytes stored in the repository.
    public var totalSize: Int64?
    /// The repository it was written to, kept so it can be read and deleted after the Cluster has gone.
    public var repository: BackupRepository?
    /// The key prefix of its objects in the bucket.
    public var path: String?
    /// For Qdrant: what the manifest (`<path>manifest.json`) covers.
    public var collections: [BackupCollection]?
    /// For PostgreSQL: the WAL a restore replays to make the base backup consistent.
    public var wal: BackupWALRange?
    /// The pod the backup was copied from (for PostgreSQL, a streaming standby when there was one).
    public var sourcePod: String?
    public var failureReason: String?
    public var observedGeneration: Int64?

    public init(
        phase: BackupPhase? = nil, startTimestamp: MetaV1.Time? = nil, completionTimestamp: MetaV1.Time? = nil, expiration: MetaV1.Time? = nil,
        totalSize: Int64? = nil, repository: BackupRepository? = nil, path: String? = nil, collections: [BackupCollection]? = nil,
        wal: BackupWALRange? = nil, sourcePod: String? = nil, failureReason: String? = nil, observedGeneration: Int64? = nil
    ) {
        self.phase = phase
        self.startTimestamp = startTimestamp
        self.completionTimestamp = completionTimestamp
        self.expiration = expiration
        self.totalSize = totalSize
        self.repository = repository
        self.path = path
        self.collections = collections
        self.wal = wal
        self.sourcePod = sourcePod
        self.failureReason = failureReason
        self.observedGeneration = observedGeneration
    }

    public static let schema = Schema.object([
        "phase": .string(oneOf: BackupPhase.self),
        "startTimestamp": .string(format: "date-time"),
        "completionTimestamp": .string(format: "date-time"),
        "expiration": .string(format: "date-time"),
        "totalSize": .integer(format: "int64"),
        "repository": .of(BackupRepository.self),
        "path": .string(),
        "collections": .array(of: .of(BackupCollection.self), listMapKeys: ["name"]),
        "wal": .of(BackupWALRange.self),
        "sourcePod": .string(),
        "failureReason": .string(),
        "observedGeneration": .integer(format: "int64"),
    ])
}

/// One Qdrant collection in a backup.
public struct BackupCollection: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var shards: Int32
    public var replicationFactor: Int32
    public var points: Int64

    public init(name: String, shards: Int32, replicationFactor: Int32, points: Int64) {
        self.name = name
        self.shards = shards
        self.replicationFactor = replicationFactor
        self.points = points
    }

    public static let schema = Schema.object(
        [
            "name": .string(),
            "shards": .integer(),
            "replicationFactor": .integer(),
            "points": .integer(format: "int64"),
        ], required: ["name", "shards", "replicationFactor", "points"])
}

/// The WAL range of a PostgreSQL base backup: from its checkpoint's redo point to where it is consistent.
public struct BackupWALRange: Codable, Sendable, Hashable, SchemaDescribed {
    public var startLSN: String
    public var endLSN: String
    public var timeline: Int32
    /// The segment files holding the two positions.
    public var startWAL: String
    public var endWAL: String

    public init(startLSN: String, endLSN: String, timeline: Int32, startWAL: String, endWAL: String) {
        self.startLSN = startLSN
        self.endLSN = endLSN
        self.timeline = timeline
        self.startWAL = startWAL
        self.endWAL = endWAL
    }

    public static let schema = Schema.object(
        [
            "startLSN": .string(),
            "endLSN": .string(),
            "timeline": .integer(),
            "startWAL": .string(),
            "endWAL": .string(),
        ], required: ["startLSN", "endLSN", "timeline", "startWAL", "endWAL"])
}

extension Backup {
    /// The schema's defaults, as the API server fills them in.
    public func withDefaults() -> Backup {
        var copy = self
        copy.spec.deletionPolicy = copy.spec.deletionPolicy ?? .delete
        return copy
    }

    public func validate() -> [FieldError] {
        var errors = Check.dnsLabel(spec.clusterName, at: FieldPath("spec.clusterName"), what: "Cluster")
        if let repository = spec.repository {
            errors += repository.validate(at: FieldPath("spec.repository"))
        }
        return errors
    }
}
