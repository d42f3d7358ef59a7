import Foundation
import KubeKit
import VectorBlocksAPI

/// A pgvector Cluster made from a pg-basebackup Backup (`spec.restoreFrom`), as its pods see it. Its first primary
/// starts from the backup rather than initdb: the pod's `restore` init container runs the addon's own setup script
/// with `VB_SETUP_PHASE=restore`, which, on the designated primary with an empty data directory while the restore is
/// pending, fills it with `vectorblocks-backup restore`, replays WAL to `restoreToTime`, promotes, sets the
/// Cluster's own password on its credential's role, and stops cleanly; the main container then starts it as any
/// primary, and the other pods clone it as standbys. The init container runs with the Backup repository's keys, so
/// the WAL of the source comes from the source's archive, whatever repository this Cluster archives into.
///
/// Nothing runs before the restore controller has checked the Backup (its manifest: the time, the archive) and
/// recorded where it is (`sourceAnnotation`): until then the component has no workload. After the restore the
/// init container stays (the pod template, and so the pods, do not change) but `VB_RESTORE_PENDING` leaves the
/// env ConfigMap, so a primary that loses its data later is not silently filled with the old backup.
struct PgBasebackupRestore: Sendable, Hashable {
    /// The Backup's location as the restore controller read it when its checks passed (JSON of `Source`).
    static let sourceAnnotation = "\(VectorBlocksAPI.group)/restore-source"
    static let containerName = "restore"
    static let pendingKey = "VB_RESTORE_PENDING"

    struct Source: Codable, Sendable, Hashable {
        var backup: String
        var repository: BackupRepository
        /// The backup's key prefix, ending in `/`.
        var path: String
        /// The source Cluster's WAL archive that the restore replays from, which this Cluster must never archive into.
        var walArchivePrefix: String?

        init(backup: String, repository: BackupRepository, path: String, walArchivePrefix: String?) {
            self.backup = backup
            self.repository = repository
            self.path = path
            self.walArchivePrefix = walArchivePrefix
        }

        init?(annotation: String?) {
            guard let annotation, let decoded = try? JSONDecoder().decode(Source.self, from: Data(annotation.utf8)) else { return nil }
            self = decoded
        }

        var annotation: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    enum Stage: Sendable, Hashable {
        /// The restore controller has not yet accepted the Backup: no pod may start (it would initdb).
        case checking
        /// The designated primary restores when its data directory is empty.
        case restoring(Source)
        /// Done: the init container stays in the template but finds nothing pending.
        case restored(Source)
    }

    var stage: Stage
    var targetTime: String?
    var uploaderImage: String

    /// The restore of a Cluster whose engine starts from a physical backup, or nil (no restoreFrom, or another engine,
    /// which is filled once it runs).
    init?(cluster: Cluster, definitionType: String, uploaderImage: String) {
        guard let restore = cluster.spec.restoreFrom, definitionType == BackupMethod.pgBasebackup.engine else { return nil }
        let annotations = cluster.metadata?.annotations ?? [:]
        let source = Source(annotation: annotations[Self.sourceAnnotation])
        switch (annotations[RestoreReconciler.stateAnnotation], source) {
        case (RestoreReconciler.started, let source?): stage = .restoring(source)
        case (RestoreReconciler.succeeded, let source?): stage = .restored(source)
        default: stage = .checking
        }
        targetTime = restore.restoreToTime
        self.uploaderImage = uploaderImage
    }

    var source: Source? {
        switch stage {
        case .checking: nil
        case .restoring(let source), .restored(let source): source
        }
    }

    /// The env ConfigMap's entries: the restore is pending until the restore controller saw it succeed.
    var environment: [String: String] {
        if case .restoring = stage { return [Self.pendingKey: "true"] }
        return [:]
    }

    /// Adds the restore init container (after the uploader's installer) to the component's pod; PostgreSQL's
    /// container is the first. It is PostgreSQL's container run in the restore phase: same image, script, volumes,
    /// user and credential, without probes or hooks, and with the Backup's location and its repository's keys.
    func apply(to spec: inout CoreV1.PodSpec, serviceAccount: String) {
        guard let source, !spec.containers.isEmpty, let credentials = BackupPodCredentials(source.repository) else { return }
        let tools = UploaderTools.install(image: uploaderImage, into: &spec)
        var restore = spec.containers[0]
        restore.name = Self.containerName
        restore.livenessProbe = nil
        restore.readinessProbe = nil
        restore.startupProbe = nil
        restore.lifecycle = nil
        restore.ports = nil
        // Its last lines say why a restore failed, for the Restored condition.
        restore.terminationMessagePolicy = "FallbackToLogsOnError"
        var environment = [
            CoreV1.EnvVar(name: "VB_SETUP_PHASE", value: "restore"), CoreV1.EnvVar(name: "VB_RESTORE_TOOL", value: UploaderTools.program),
            CoreV1.EnvVar(name: "VB_RESTORE_BUCKET", value: source.repository.bucket),
            CoreV1.EnvVar(name: "VB_RESTORE_REGION", value: source.repository.region),
        ]
        if let endpoint = source.repository.endpoint { environment.append(CoreV1.EnvVar(name: "VB_RESTORE_ENDPOINT", value: endpoint)) }
        environment.append(CoreV1.EnvVar(name: "VB_RESTORE_BACKUP_PREFIX", value: source.path))
        if let targetTime { environment.append(CoreV1.EnvVar(name: "VB_RESTORE_TARGET_TIME", value: targetTime)) }
        restore.env = (restore.env ?? []) + environment
        restore.volumeMounts = (restore.volumeMounts ?? []) + [tools]
        credentials.apply(to: &restore, in: &spec, serviceAccount: serviceAccount)
        spec.initContainers = (spec.initContainers ?? []) + [restore]
    }

    /// Why this Cluster's own WAL archiving cannot be, or nil: never into the archive its restore replays, which would
    /// mix its new timeline into the source Cluster's history.
    static func archiveProblem(
        _ archiving: WALArchiving?, sourceRepository: BackupRepository, sourceArchive: String?
    ) -> FieldError? {
        guard let archiving, let sourceArchive, archiving.walArchivePrefix == sourceArchive,
            archiving.repository.bucket == sourceRepository.bucket, archiving.repository.endpoint == sourceRepository.endpoint
        else { return nil }
        return FieldError(
            field: "spec.backup.repository.prefix",
            message:
                "Invalid value: this Cluster would archive its WAL into s3://\(archiving.repository.bucket)/\(sourceArchive), the archive of the Cluster its Backup was taken from",
            fix: "set spec.backup.repository.prefix (or bucket) to another, so the restored Cluster's WAL never mixes with its source's")
    }

    func archiveProblem(_ archiving: WALArchiving?) -> FieldError? {
        guard let source else { return nil }
        return Self.archiveProblem(archiving, sourceRepository: source.repository, sourceArchive: source.walArchivePrefix)
    }
}
