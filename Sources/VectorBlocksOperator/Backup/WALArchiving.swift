import KubeKit
import PostgresBackup
import VectorBlocksAPI

/// Continuous WAL archiving of a pgvector Cluster with `spec.backup.pitrEnabled`: the pods get vectorblocks-backup
/// (copied by an init container into an emptyDir, as CloudNativePG copies its manager) and the repository's settings
/// and credentials (keys from its Secret, or its IAM role through IRSA) in their environment, and the setup script then starts PostgreSQL with `archive_mode = on` and
/// `archive_command` pushing each WAL segment to `<prefix>/<namespace>/<cluster>/wal_archive/`. Only a primary
/// archives; a promoted standby archives its new timeline from then on.
struct WALArchiving: Sendable, Hashable {
    var repository: BackupRepository
    var credentials: BackupPodCredentials
    var walArchivePrefix: String
    var uploaderImage: String

    /// The archiving the Cluster asks for, or nil (no schedule, schedule off, PITR off, or not PostgreSQL).
    init?(cluster: Cluster, uploaderImage: String) {
        guard let backup = cluster.spec.backup, backup.enabled != false, backup.pitrEnabled == true, backup.method == .pgBasebackup,
            let credentials = BackupPodCredentials(backup.repository), let namespace = cluster.metadata?.namespace,
            let name = cluster.metadata?.name
        else { return nil }
        self.repository = backup.repository
        self.credentials = credentials
        self.walArchivePrefix = Self.prefix(repository: backup.repository, namespace: namespace, cluster: name)
        self.uploaderImage = uploaderImage
    }

    /// `<prefix>/<namespace>/<cluster>/wal_archive/`.
    static func prefix(repository: BackupRepository, namespace: String, cluster: String) -> String {
        WALArchive.prefix(clusterPrefix: repository.keyPrefix(namespace: namespace, cluster: cluster, backup: ""))
    }

    /// Adds the uploader and its settings to the component's pod: the first container is PostgreSQL's.
    /// With an IAM role, the pod runs under `serviceAccount` (the Cluster's backup ServiceAccount).
    func apply(to spec: inout CoreV1.PodSpec, serviceAccount: String) {
        guard !spec.containers.isEmpty else { return }
        let tools = UploaderTools.install(image: uploaderImage, into: &spec)
        var environment = [
            CoreV1.EnvVar(name: "VB_BACKUP_BUCKET", value: repository.bucket), CoreV1.EnvVar(name: "VB_BACKUP_REGION", value: repository.region),
            CoreV1.EnvVar(name: "VB_BACKUP_WAL_PREFIX", value: walArchivePrefix),
            CoreV1.EnvVar(name: "VB_BACKUP_TOOL", value: UploaderTools.program),
        ]
        if let endpoint = repository.endpoint { environment.append(CoreV1.EnvVar(name: "VB_BACKUP_ENDPOINT", value: endpoint)) }
        var postgres = spec.containers[0]
        postgres.env = (postgres.env ?? []) + environment
        postgres.volumeMounts = (postgres.volumeMounts ?? []) + [tools]
        credentials.apply(to: &postgres, in: &spec, serviceAccount: serviceAccount)
        spec.containers[0] = postgres
    }
}
