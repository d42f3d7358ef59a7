import ArgumentParser
import Foundation
import VectorBlocksCLI

/// `kbctl cluster backup | list-backups | delete-backup | restore`, as kbcli names them.
extension ClusterCommand {
    struct BackupCluster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup", abstract: "Back up a cluster into its backup repository.",
            discussion: """
                The method and the repository default to the cluster's spec.backup; a cluster without
                spec.backup.repository is refused, with how to add one.
                Examples:
                  kbctl cluster backup vectors
                  kbctl cluster backup embeddings --backup-name before-upgrade --deletion-policy Retain
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The cluster to back up.") var name: String
        @Option(help: "The Backup's name (default: <cluster>-backup-<yyyyMMddHHmmss>, UTC).") var backupName: String?
        @Option(help: "qdrant-snapshot or pg-basebackup (default: the cluster's spec.backup.method, else its engine's method).") var method: String?
        @Option(help: "Delete (the default: deleting the Backup deletes its data) or Retain (the data stays in the repository).")
        var deletionPolicy: String?

        func run() async throws {
            try await global.run(.clusterBackup) { session in
                let backup = try await session.createBackup(
                    BackupCreation(cluster: name, namespace: session.namespace, name: backupName, method: method, deletionPolicy: deletionPolicy))
                Terminal.print(try await session.printBackupCreated(backup))
            }
        }
    }

    struct ListBackups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-backups", abstract: "List backups, of one cluster or all.",
            discussion: "Examples:\n  kbctl cluster list-backups\n  kbctl cluster list-backups embeddings -o wide\n  kbctl cluster list-backups -A")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Only this cluster's backups.") var name: String?
        @Flag(name: [.customShort("A"), .long], help: "List backups of every namespace.") var allNamespaces = false

        func run() async throws {
            try await global.run(.clusterListBackups) { Terminal.print(try await $0.listBackups(cluster: name, allNamespaces: allNamespaces)) }
        }
    }

    struct DeleteBackup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-backup", abstract: "Delete a backup (its deletionPolicy says whether its data goes too).",
            discussion: "Example:\n  kbctl cluster delete-backup embeddings-backup-20261203213000")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The Backup's name.") var name: String

        func run() async throws {
            try await global.run(.clusterDeleteBackup) { Terminal.print(try await $0.deleteBackup(name)) }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new cluster from a backup (pgvector: to a point in time with --restore-to-time).",
            discussion: """
                The new cluster gets the backed-up cluster's definition, version and components (from the Backup's
                snapshot of it when that cluster is gone) and spec.restoreFrom; the operator fills it from the backup.
                Examples:
                  kbctl cluster restore vectors-copy --backup vectors-202612030300
                  kbctl cluster restore embeddings-1230 --backup embeddings-202612030300 --restore-to-time 2026-12-03T12:30:00Z
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The new cluster's name.") var name: String
        @Option(help: "The Backup to restore.") var backup: String
        @Option(help: "RFC 3339 time to replay the WAL up to (pg-basebackup backups of clusters with spec.backup.pitrEnabled).")
        var restoreToTime: String?

        func run() async throws {
            try await global.run(.clusterRestore) { session in
                let cluster = try await session.restoreCluster(
                    ClusterRestoration(name: name, namespace: session.namespace, backup: backup, restoreToTime: restoreToTime))
                Terminal.print(try await session.printRestored(cluster))
            }
        }
    }
}
