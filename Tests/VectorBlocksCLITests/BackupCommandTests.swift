import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI

/// `kbctl cluster backup | list-backups | restore | delete-backup` against KubeSim: the objects they make, what they
/// print, and every refusal naming the flag or field and what to do. (The operator's side of a Backup, taking it and
/// restoring it, is BackupControllerTests'.)
@Suite("kbctl backups")
struct BackupCommandTests {
    static let repository = BackupRepository(bucket: "vb-backups", prefix: "prod", region: "eu-west-1", credentialsSecretName: "s3-keys")
    static let backupTime = Date(timeIntervalSince1970: 1_796_333_400)  // 2026-12-03T21:30:00Z

    /// KubeSim with the CRDs, both addons, the Qdrant Cluster `vectors` and the pgvector Cluster `embeddings`.
    static func withClusters(_ body: (KubeClient, Session) async throws -> Void) async throws {
        try await withKubeSim(workloads: false) { _, client in
            try await installVectorBlocksCRDs(client)
            let session = Session(client: client, namespace: "default")
            try await session.enableAddon("qdrant")
            try await session.enableAddon("pgvector")
            _ = try await session.createCluster(ClusterCreation(name: "vectors", namespace: "default", definition: "qdrant", replicas: 3))
            _ = try await session.createCluster(
                ClusterCreation(
                    name: "embeddings", namespace: "default", definition: "pgvector", replicas: 2, cpu: "1", memory: "2Gi", storage: "30Gi",
                    terminationPolicy: "Delete"))
            try await body(client, session)
        }
    }

    static func schedule(_ cluster: String, method: BackupMethod, repository: BackupRepository, client: KubeClient) async throws {
        try await client.edit(Cluster.self, name: cluster, namespace: "default") {
            $0.spec.backup = ClusterBackup(enabled: false, method: method, cronExpression: "0 3 * * *", repository: repository)
        }
    }

    static func setStatus(_ name: String, _ status: BackupStatus, client: KubeClient, namespace: String = "default") async throws {
        var backup = try await client.get(Backup.self, name: name, namespace: namespace)
        backup.status = status
        _ = try await client.updateStatus(backup)
    }

    static func completed(size: Int64 = 1_536, start: Date = backupTime, path: String = "prod/default/embeddings/nightly/") -> BackupStatus {
        BackupStatus(
            phase: .completed, startTimestamp: MetaV1.Time(start), completionTimestamp: MetaV1.Time(start.addingTimeInterval(95)), totalSize: size,
            repository: repository, path: path)
    }

    @Test("backup takes the Cluster's method and repository, records the Cluster, and refuses what the operator could not do")
    func backupTakesTheClustersSettings() async throws {
        try await Self.withClusters { client, session in
            await #expect { try await session.createBackup(BackupCreation(cluster: "vectors", namespace: "default")) } throws: {
                "\($0)".contains("cluster \"vectors\" names no backup repository (spec.backup.repository)") && "\($0)".contains("kubectl patch cluster vectors")
            }
            await #expect { try await session.createBackup(BackupCreation(cluster: "nope", namespace: "default")) } throws: {
                "\($0)".contains("cluster \"nope\" not found")
            }
            var keyless = Self.repository
            keyless.credentialsSecretName = nil
            try await Self.schedule("embeddings", method: .pgBasebackup, repository: keyless, client: client)
            await #expect { try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default")) } throws: {
                "\($0)".contains("spec.backup.repository.credentialsSecretName is empty")
            }
            try await Self.schedule("embeddings", method: .pgBasebackup, repository: Self.repository, client: client)
            await #expect {
                try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", method: "qdrant-snapshot"))
            } throws: { "\($0)".contains("--method qdrant-snapshot backs up qdrant; cluster \"embeddings\" runs postgresql: use pg-basebackup") }
            await #expect { try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", method: "full")) } throws: {
                "\($0)".contains("--method \"full\" is not a backup method; cluster \"embeddings\" (postgresql) takes pg-basebackup")
            }
            await #expect {
                try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", deletionPolicy: "Keep"))
            } throws: { "\($0)".contains("--deletion-policy \"Keep\" is not one of Delete, Retain") }

            let named = try await session.createBackup(
                BackupCreation(cluster: "embeddings", namespace: "default", name: "before-upgrade", deletionPolicy: "Retain"))
            #expect(named.spec == BackupSpec(clusterName: "embeddings", backupMethod: .pgBasebackup, repository: Self.repository, deletionPolicy: .retain))
            #expect(named.metadata?.labels?[Backup.clusterLabel] == "embeddings")
            let source = try await client.get(Cluster.self, name: "embeddings", namespace: "default")
            let snapshot = try #require(BackupClusterSnapshot.spec(of: named))
            #expect(snapshot.componentSpecs == source.spec.componentSpecs && snapshot.clusterDefinitionRef == "pgvector")
            #expect(snapshot.backup == nil, "the snapshot leaves the schedule out")

            let defaulted = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default"), now: Self.backupTime)
            #expect(defaulted.metadata?.name == "embeddings-backup-20261203213000")
            #expect(defaulted.spec.deletionPolicy == .delete)
            await #expect { try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default"), now: Self.backupTime) } throws: {
                "\($0)".contains("backup \"embeddings-backup-20261203213000\" already exists in namespace \"default\"; choose another --backup-name")
            }
            // Qdrant has one method, taken without a schedule's say, and needs no keys (the operator's role may do).
            try await Self.schedule("vectors", method: .qdrantSnapshot, repository: BackupRepository(bucket: "vb-backups", region: "eu-west-1"), client: client)
            let qdrant = try await session.createBackup(BackupCreation(cluster: "vectors", namespace: "default", name: "vectors-now"))
            #expect(qdrant.spec.backupMethod == .qdrantSnapshot)
            #expect(
                try await session.printBackupCreated(qdrant).contains("Backup vectors-now of cluster vectors created (qdrant-snapshot, deletionPolicy Delete)"))
        }
    }

    @Test("list-backups: one cluster's or all, every namespace with -A, what failed and why with -o wide")
    func listBackups() async throws {
        try await Self.withClusters { client, session in
            #expect(try await session.listBackups() == "No backups found in namespace default.\n")
            try await Self.schedule("embeddings", method: .pgBasebackup, repository: Self.repository, client: client)
            try await Self.schedule("vectors", method: .qdrantSnapshot, repository: Self.repository, client: client)
            _ = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", name: "nightly"))
            _ = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", name: "broken"))
            _ = try await session.createBackup(BackupCreation(cluster: "vectors", namespace: "default", name: "vectors-1"))
            try await Self.setStatus("nightly", Self.completed(size: 3_355_443), client: client)
            try await Self.setStatus(
                "broken", BackupStatus(phase: .failed, startTimestamp: MetaV1.Time(Self.backupTime), failureReason: "pg_basebackup: connection lost"),
                client: client)
            _ = try await client.create(CoreV1.Namespace(metadata: .init(name: "staging")))
            _ = try await client.create(
                Backup(
                    metadata: .init(labels: [Backup.clusterLabel: "embeddings"], name: "staging-1", namespace: "staging"),
                    spec: BackupSpec(clusterName: "embeddings", backupMethod: .pgBasebackup, repository: Self.repository)))

            let table = try await session.listBackups(cluster: "embeddings")
            let lines = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(lines.first == ["NAME", "CLUSTER", "METHOD", "STATUS", "SIZE", "CREATE-TIME", "COMPLETION-TIME"])
            #expect(lines.count == 3 && !table.contains("vectors-1") && !table.contains("staging-1"), "\(table)")
            #expect(lines.first { $0.first == "nightly" }.map { Array($0.prefix(5)) } == ["nightly", "embeddings", "pg-basebackup", "Completed", "3.2MiB"])
            #expect(table.contains("Dec 03,2026 21:31 UTC"), "the completion time: \(table)")

            let everywhere = try await session.listBackups(allNamespaces: true)
            #expect(everywhere.hasPrefix("NAME") && everywhere.contains("NAMESPACE") && everywhere.contains("staging-1") && everywhere.contains("vectors-1"))
            let wide = try await Session(client: client, namespace: "default", format: .wide).listBackups()
            #expect(wide.contains("DELETION-POLICY") && wide.contains("pg_basebackup: connection lost") && wide.contains("1m35s"), "\(wide)")
            let names = try await Session(client: client, namespace: "default", format: .name).listBackups(cluster: "embeddings")
            #expect(names == "backup.apps.vectorblocks.io/broken\nbackup.apps.vectorblocks.io/nightly\n")
        }
    }

    @Test("restore: a Cluster like the backed-up one, from the Backup's snapshot once that one is gone, refusing what cannot be restored")
    func restoreMakesAClusterLikeTheBackedUpOne() async throws {
        try await Self.withClusters { client, session in
            try await Self.schedule("embeddings", method: .pgBasebackup, repository: Self.repository, client: client)
            _ = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", name: "nightly"))
            let now = Self.backupTime.addingTimeInterval(3_600)
            func restore(_ name: String, _ backup: String = "nightly", to time: String? = nil) async throws -> Cluster {
                try await session.restoreCluster(ClusterRestoration(name: name, namespace: "default", backup: backup, restoreToTime: time), now: now)
            }
            await #expect { try await restore("copy") } throws: {
                "\($0)".contains("backup \"nightly\" is New, not Completed; wait until kbctl cluster list-backups shows it Completed")
            }
            await #expect { try await restore("copy", "nope") } throws: { "\($0)".contains("backup \"nope\" not found in namespace \"default\"") }
            try await Self.setStatus("nightly", Self.completed(), client: client)
            await #expect { try await restore("copy", to: "yesterday at noon") } throws: {
                "\($0)".contains("--restore-to-time \"yesterday at noon\" is not an RFC 3339 time: write e.g. 2026-12-03T21:30:00Z")
            }
            await #expect { try await restore("copy", to: "2026-12-03T21:00:00Z") } throws: {
                "\($0)".contains("is before backup \"nightly\" started (2026-12-03T21:30:00Z)")
            }
            await #expect { try await restore("copy", to: "2026-12-04T21:00:00Z") } throws: { "\($0)".contains("is in the future") }
            await #expect { try await restore("embeddings") } throws: { "\($0)".contains("cluster \"embeddings\" already exists") }

            let copy = try await restore("copy", to: "2026-12-03T22:00:00+00:00")
            let source = try await client.get(Cluster.self, name: "embeddings", namespace: "default")
            #expect(copy.spec.clusterDefinitionRef == "pgvector" && copy.spec.clusterVersionRef == source.spec.clusterVersionRef)
            #expect(copy.spec.componentSpecs == source.spec.componentSpecs && copy.spec.terminationPolicy == .delete)
            #expect(copy.spec.backup == nil, "a restored Cluster starts without the source's schedule")
            #expect(copy.spec.restoreFrom == ClusterRestore(backupName: "nightly", restoreToTime: "2026-12-03T22:00:00+00:00"))
            let printed = try await session.printRestored(copy)
            #expect(printed.hasPrefix("Cluster copy created from backup nightly as of 2026-12-03T22:00:00+00:00"), "\(printed)")

            // The source gone: the Backup's snapshot of it is enough.
            try await client.delete(Cluster.self, name: "embeddings", namespace: "default")
            let again = try await restore("copy-2")
            #expect(again.spec.componentSpecs == source.spec.componentSpecs && again.spec.restoreFrom == ClusterRestore(backupName: "nightly"))
            // ...and without one, what to do instead.
            _ = try await client.create(
                Backup(
                    metadata: .init(name: "handmade", namespace: "default"),
                    spec: BackupSpec(clusterName: "embeddings", backupMethod: .pgBasebackup, repository: Self.repository)))
            try await Self.setStatus("handmade", Self.completed(), client: client)
            await #expect { try await restore("copy-3", "handmade") } throws: {
                "\($0)".contains("Cluster \"embeddings\", which backup \"handmade\" was taken of, is gone, and the Backup records no snapshot of it")
                    && "\($0)".contains("spec.restoreFrom.backupName: handmade")
            }

            try await Self.schedule("vectors", method: .qdrantSnapshot, repository: Self.repository, client: client)
            _ = try await session.createBackup(BackupCreation(cluster: "vectors", namespace: "default", name: "vectors-1"))
            try await Self.setStatus("vectors-1", Self.completed(), client: client)
            await #expect { try await restore("vectors-copy", "vectors-1", to: "2026-12-03T22:00:00Z") } throws: {
                "\($0)".contains("--restore-to-time: backup \"vectors-1\" is a qdrant-snapshot, which restores the state at its own time")
            }
            #expect(try await restore("vectors-copy", "vectors-1").spec.componentSpecs.first?.replicas == 3)
            try await Self.setStatus("vectors-1", BackupStatus(phase: .failed, failureReason: "shard 2 moved three times"), client: client)
            await #expect { try await restore("vectors-copy-2", "vectors-1") } throws: {
                "\($0)".contains("backup \"vectors-1\" failed (shard 2 moved three times)")
            }
        }
    }

    @Test("delete-backup says what happens to the backup's data")
    func deleteBackupSaysWhatHappensToTheData() async throws {
        try await Self.withClusters { client, session in
            try await Self.schedule("embeddings", method: .pgBasebackup, repository: Self.repository, client: client)
            _ = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", name: "nightly"))
            _ = try await session.createBackup(BackupCreation(cluster: "embeddings", namespace: "default", name: "kept", deletionPolicy: "Retain"))
            try await Self.setStatus("nightly", Self.completed(), client: client)
            #expect(
                try await session.deleteBackup("nightly")
                    == "Backup/nightly deleted: its data in s3://vb-backups/prod/default/embeddings/nightly/ is deleted with it (deletionPolicy Delete)\n")
            #expect(
                try await Session(client: client, namespace: "default", format: .name).deleteBackup("kept") == "backup.apps.vectorblocks.io/kept\n")
            await #expect { try await session.deleteBackup("nightly") } throws: { "\($0)".contains("backup \"nightly\" not found in namespace \"default\"") }
            #expect(try await client.list(Backup.self, namespace: "default").items.isEmpty)
        }
    }

    @Test func sizesAreInBinaryUnits() {
        #expect(ByteSize.text(512) == "512B")
        #expect(ByteSize.text(1_536) == "1.5KiB")
        #expect(ByteSize.text(3_355_443) == "3.2MiB")
        #expect(ByteSize.text(5 << 40) == "5.0TiB")
    }
}
