import PostgresBackup
import VectorBlocksAPI

/// Which archived WAL a pgvector Cluster with `spec.backup.pitrEnabled` still needs once retention has deleted
/// Backups: everything from the start of its oldest kept Backup on (by timeline, then position), since every restore,
/// to a backup's end or to a later time, starts from a kept Backup and replays forward. Pure, so a test gives it
/// Backups instead of a cluster.
enum WALPruning {
    struct Boundary: Sendable, Equatable {
        /// The first segment kept: the oldest kept Backup's start.
        var firstNeeded: String
        var backup: String
    }

    /// The boundary, or nil when nothing may be pruned: no Completed Backup is kept (a later one could still fail,
    /// and the WAL is then all there is), or a kept Completed one does not say where it starts.
    static func boundary(backups: [Backup], deleting: Set<String>) -> Boundary? {
        let kept = backups.filter { backup in
            backup.spec.backupMethod == .pgBasebackup && backup.metadata?.deletionTimestamp == nil
                && !deleting.contains(backup.metadata?.name ?? "") && backup.status?.phase == .completed
        }
        var starts: [Boundary] = []
        for backup in kept {
            guard let start = backup.status?.wal?.startWAL, case .segment = WALFileName(start) else { return nil }
            starts.append(Boundary(firstNeeded: start, backup: backup.metadata?.name ?? ""))
        }
        return starts.min { $0.firstNeeded < $1.firstNeeded }
    }
}
