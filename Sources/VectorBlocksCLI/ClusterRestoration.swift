import Foundation
import KubeKit
import VectorBlocksAPI

/// `kbctl cluster restore NEW --backup NAME [--restore-to-time T]`: a new Cluster with the backed-up Cluster's
/// definition, version, termination policy, placement and components, and `spec.restoreFrom`, which the operator
/// fills from the Backup. What the operator would refuse (a Backup not Completed, a target time it cannot reach) is
/// refused here first, with what to do instead.
public struct ClusterRestoration: Sendable {
    public var name: String
    public var namespace: String
    public var backup: String
    public var restoreToTime: String?

    public init(name: String, namespace: String, backup: String, restoreToTime: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.backup = backup
        self.restoreToTime = restoreToTime
    }

    /// Where the restored Cluster's spec comes from: the backed-up Cluster as it is now, or the snapshot the Backup
    /// recorded of it when the Cluster is gone.
    public enum Source: Sendable {
        case cluster(Cluster)
        case snapshot(ClusterSpec)
        case missing
    }

    /// The Cluster to create, or an error saying why it cannot be made and what to do.
    public func cluster(from stored: Backup, source: Source, now: Date = Date()) throws -> Cluster {
        try checkCompleted(stored)
        _ = try targetTime(for: stored, now: now)
        var spec: ClusterSpec
        switch source {
        case .cluster(let cluster): spec = cluster.spec
        case .snapshot(let recorded): spec = recorded
        case .missing:
            throw CLIError(
                "Cluster \"\(stored.spec.clusterName)\", which backup \"\(backup)\" was taken of, is gone, and the Backup records no snapshot of it "
                    + "(annotation \(BackupClusterSnapshot.annotation)): write the Cluster yourself, with the clusterDefinitionRef of a "
                    + "\(stored.spec.backupMethod.engine) definition (kbctl addon list), its components, and spec.restoreFrom.backupName: \(backup), "
                    + "and kubectl apply it")
        }
        spec.backup = nil
        spec.restoreFrom = ClusterRestore(backupName: backup, restoreToTime: restoreToTime)
        return Cluster(metadata: MetaV1.ObjectMeta(name: name, namespace: namespace), spec: spec)
    }

    func checkCompleted(_ stored: Backup) throws {
        switch stored.status?.phase {
        case .completed: return
        case .failed:
            throw CLIError(
                "backup \"\(backup)\" failed (\(stored.status?.failureReason ?? "no reason recorded")); restore from a Completed one (kbctl cluster list-backups)"
            )
        case .deleting:
            throw CLIError("backup \"\(backup)\" is being deleted; restore from another one (kbctl cluster list-backups)")
        case .new, .running, nil:
            throw CLIError(
                "backup \"\(backup)\" is \(stored.status?.phase?.rawValue ?? "New"), not Completed; wait until kbctl cluster list-backups shows it Completed")
        }
    }

    /// The target time, checked: RFC 3339, a pg-basebackup Backup, after the backup started and not in the future.
    func targetTime(for stored: Backup, now: Date) throws -> Date? {
        guard let text = restoreToTime else { return nil }
        guard let time = MetaV1.Time(rfc3339: text)?.date else {
            throw CLIError("--restore-to-time \"\(text)\" is not an RFC 3339 time: write e.g. 2026-12-03T21:30:00Z or 2026-12-03T22:30:00+01:00")
        }
        guard stored.spec.backupMethod == .pgBasebackup else {
            throw CLIError(
                "--restore-to-time: backup \"\(backup)\" is a \(stored.spec.backupMethod.rawValue), which restores the state at its own time; leave --restore-to-time out"
            )
        }
        if let started = stored.status?.startTimestamp, time < started.date {
            throw CLIError(
                "--restore-to-time \(text) is before backup \"\(backup)\" started (\(started.rfc3339)): choose a later time, or an earlier backup (kbctl cluster list-backups)"
            )
        }
        if time > now {
            throw CLIError("--restore-to-time \(text) is in the future: the WAL to replay up to it does not exist yet")
        }
        return time
    }
}
