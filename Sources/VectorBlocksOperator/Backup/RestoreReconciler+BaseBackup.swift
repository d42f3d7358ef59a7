import Foundation
import KubeKit
import ObjectStorage
import OperatorKit
import PostgresBackup
import VectorBlocksAPI

extension RestoreReconciler {
    /// How often a restoring primary is looked at (its init container's progress causes no Cluster event).
    static let restorePollInterval: Duration = .seconds(3)

    /// A pgvector Cluster made from a pg-basebackup Backup: its primary starts from the backup (see
    /// `PgBasebackupRestore`), so the checks come first, before the Cluster has pods. Once they pass, the Backup's
    /// location is recorded on the Cluster with the `Started` state, which gives the Cluster its workload; then the
    /// designated primary's `restore` init container is followed until the Cluster is Running.
    func startBaseBackupRestore(
        _ cluster: Cluster, restore: ClusterRestore, repository: BackupRepository, path: String
    ) async throws -> ReconcileResult {
        guard let namespace = cluster.metadata?.namespace else { return .done }
        let s3: S3Client
        switch try await storage.s3(repository, namespace: namespace, field: "Backup \(restore.backupName) status.repository") {
        case .failure(let problem): return try await report(cluster, restored: false, reason: "RepositoryUnreachable", message: problem.description)
        case .success(let made): s3 = made
        }
        let manifest: BaseBackupManifest
        do {
            manifest = try BaseBackupManifest.decoded(try await s3.getObjectBytes(path + BaseBackupManifest.objectName))
        } catch {
            return try await report(
                cluster, restored: false, reason: "BackupUnreadable",
                message: "s3://\(repository.bucket)/\(path)\(BaseBackupManifest.objectName) of Backup \(restore.backupName) cannot be read: \(error)")
        }
        let archiving = WALArchiving(cluster: cluster, uploaderImage: "")
        if let refusal = PgBasebackupRestoreChecks.refusal(restore: restore, manifest: manifest, repository: repository, archiving: archiving) {
            return try await refuse(cluster, refusal)
        }
        let source = PgBasebackupRestore.Source(
            backup: restore.backupName, repository: repository, path: path, walArchivePrefix: manifest.walArchivePrefix)
        // The location first and the state with it, in one write: the Cluster's workload is made from both.
        _ = try await client.patch(
            Cluster.self, name: cluster.metadata?.name ?? "", namespace: namespace,
            patch: .merge([
                "metadata": [
                    "annotations": [
                        PgBasebackupRestore.sourceAnnotation: .string(source.annotation), Self.stateAnnotation: .string(Self.started),
                    ]
                ]
            ]))
        let message =
            "the primary starts from s3://\(repository.bucket)/\(path)"
            + (restore.restoreToTime.map { " and replays its source's WAL archive to \($0)" } ?? ", as the backup ended")
        return try await report(cluster, restored: false, reason: "RestoreStarting", message: message)
    }

    /// Follows the designated primary's `restore` init container, and succeeds once the Cluster is Running (its
    /// standbys cloned the restored primary).
    func followBaseBackupRestore(_ cluster: Cluster, source: PgBasebackupRestore.Source, restore: ClusterRestore) async throws -> ReconcileResult {
        guard let namespace = cluster.metadata?.namespace, let name = cluster.metadata?.name, let component = cluster.spec.componentSpecs.first
        else { return .done }
        let names = ClusterNames(cluster: name, namespace: namespace)
        let primary = PrimaryDesignation.designated(cluster, component: component.name, names: names)
        let pod = await caches.pods.get(name: primary, namespace: namespace)
        let progress = BaseBackupRestoreProgress(
            pod: pod, podName: primary, source: source, targetTime: restore.restoreToTime, clusterRunning: cluster.status?.phase == .running)
        switch progress.step {
        case .succeeded(let message):
            try await annotate(cluster, Self.succeeded)
            await events.record(cluster, type: .normal, reason: "RestoreSucceeded", message: message)
            return try await report(cluster, restored: true, reason: "RestoreSucceeded", message: message)
        case .waiting(let reason, let message):
            _ = try await report(cluster, restored: false, reason: reason, message: message)
            return .requeue(after: Self.restorePollInterval)
        }
    }
}
