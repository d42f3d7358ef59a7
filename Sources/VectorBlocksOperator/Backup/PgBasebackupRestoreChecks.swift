import Foundation
import PostgresBackup
import VectorBlocksAPI

/// What must hold before a pgvector Cluster's primary starts from a pg-basebackup Backup, as a pure function of the
/// restore asked for, the Backup's manifest and the Cluster's own archiving: a refusal names the field and the fix.
enum PgBasebackupRestoreChecks {
    static func refusal(
        restore: ClusterRestore, manifest: BaseBackupManifest, repository: BackupRepository, archiving: WALArchiving?
    ) -> String? {
        if BackupPodCredentials(repository) == nil {
            return
                "Backup \(restore.backupName) status.repository.credentialsSecretName: the restoring pod reads the backup with the repository's keys from a Secret or its IAM role (roleArn), and this repository names neither; restore from a Backup whose repository names one"
        }
        if let time = restore.restoreToTime {
            guard let target = BaseBackupManifest.parseTimestamp(time) else {
                return "spec.restoreFrom.restoreToTime: \"\(time)\" is not an RFC 3339 time; write one such as 2026-12-03T19:00:00Z"
            }
            if manifest.walArchivePrefix == nil {
                return
                    "spec.restoreFrom.restoreToTime: Backup \(restore.backupName)'s Cluster did not archive its WAL into the Backup's bucket (spec.backup.pitrEnabled was off), so it restores only to its own end (\(BaseBackupManifest.timestamp(manifest.endTime))); remove restoreToTime"
            }
            if target < manifest.endTime {
                return
                    "spec.restoreFrom.restoreToTime: \(time) is before Backup \(restore.backupName) ended (\(BaseBackupManifest.timestamp(manifest.endTime))); name a Backup that ended before that time, or a later time"
            }
        }
        if let problem = PgBasebackupRestore.archiveProblem(archiving, sourceRepository: repository, sourceArchive: manifest.walArchivePrefix) {
            return problem.description
        }
        return nil
    }
}
