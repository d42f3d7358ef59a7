import KubeKit
import VectorBlocksAPI

/// A WipeOut Cluster's Backups go with it; each Backup's finalizer deletes its data from the repository first
/// (unless its `deletionPolicy` is Retain). Backups name their Cluster in `spec.clusterName`, made by hand or by
/// the schedule alike, and are not owned by it, so no other termination policy touches them.
struct BackupWipeOut: Sendable {
    let client: KubeClient

    /// Deletes the Cluster's Backups and returns those the server still holds (`Backup/name`).
    func deleteBackups(of names: ClusterNames) async throws -> [String] {
        var remaining: [String] = []
        for backup in try await client.listAll(Backup.self, namespace: names.namespace).items where backup.spec.clusterName == names.cluster {
            guard let name = backup.metadata?.name else { continue }
            remaining.append("Backup/\(name)")
            guard backup.metadata?.deletionTimestamp == nil else { continue }
            do {
                try await client.delete(Backup.self, name: name, namespace: names.namespace)
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            }
        }
        return remaining
    }
}
