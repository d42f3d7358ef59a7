import Foundation
import KubeKit

/// The Cluster a Backup was taken of, as it was then (KubeBlocks' `cluster-snapshot` annotation on a Backup): its
/// definition, version, termination policy, placement and components, so a restore can make the Cluster again
/// after the original is gone. Its schedule and its own restore source are left out: a restored Cluster starts
/// without either.
public enum BackupClusterSnapshot {
    /// The annotation holding the snapshot, as JSON of a `ClusterSpec`.
    public static let annotation = "\(VectorBlocksAPI.group)/cluster-snapshot"

    /// The annotation's value for `cluster`.
    public static func encoded(_ cluster: Cluster) throws -> String {
        var spec = cluster.spec
        spec.backup = nil
        spec.restoreFrom = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }

    /// The Cluster spec the Backup recorded, or nil when it recorded none (or one that cannot be read).
    public static func spec(of backup: Backup) -> ClusterSpec? {
        guard let text = backup.metadata?.annotations?[annotation] else { return nil }
        return try? JSONDecoder().decode(ClusterSpec.self, from: Data(text.utf8))
    }
}
