import Foundation
import KubeKit
import PostgresBackup
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

@Suite("A pgvector Cluster restored from a pg-basebackup Backup, as pure builders")
struct PgBasebackupRestoreTests {
    static let repository = BackupRepository(
        bucket: "backups", prefix: "pg", region: "eu-west-1", endpoint: "http://minio:9000", credentialsSecretName: "s3-keys")
    static let source = PgBasebackupRestore.Source(
        backup: "nightly", repository: repository, path: "pg/default/vectors/nightly/", walArchivePrefix: "pg/default/vectors/wal_archive/")

    static func build(state: String?, target: String? = "2026-12-03T20:00:00Z", edit: (inout Cluster) -> Void = { _ in }) throws -> [DesiredObject] {
        try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
            cluster.spec.restoreFrom = ClusterRestore(backupName: "nightly", restoreToTime: target)
            if let state {
                cluster.metadata?.annotations = [
                    RestoreReconciler.stateAnnotation: state, PgBasebackupRestore.sourceAnnotation: Self.source.annotation,
                ]
            }
            edit(&cluster)
        }.objects
    }

    static func podSpec(_ objects: [DesiredObject]) throws -> CoreV1.PodSpec {
        let statefulSet = try object(objects, "StatefulSet/embeddings-postgresql").decode(as: AppsV1.StatefulSet.self)
        return try #require(statefulSet.spec?.template.spec)
    }

    static func environment(_ objects: [DesiredObject]) throws -> [String: String] {
        try object(objects, "ConfigMap/embeddings-postgresql-env").decode(as: CoreV1.ConfigMap.self).data ?? [:]
    }

    @Test("until the restore's checks pass there is no workload, so no primary can initdb; the rest of the Cluster is made")
    func noWorkloadWhileChecking() throws {
        for state in [nil, RestoreReconciler.refused] {
            let objects = try Self.build(state: state)
            #expect(!objects.contains { $0.description.hasPrefix("StatefulSet/") || $0.description.hasPrefix("PodDisruptionBudget/") })
            #expect(objects.contains { $0.description == "Secret/embeddings-conn-credential" })
            #expect(objects.contains { $0.description == "Service/embeddings-postgresql" })
            #expect(try Self.environment(objects)[PgBasebackupRestore.pendingKey] == nil)
        }
        // A Qdrant Cluster is filled once it runs: its workload is made at once.
        let qdrant = try buildExample("qdrant-cluster.yaml", addon: .qdrant) { $0.spec.restoreFrom = ClusterRestore(backupName: "nightly") }.objects
        #expect(qdrant.contains { $0.description.hasPrefix("StatefulSet/") })
    }

    @Test("once started, PostgreSQL's own container restores in an init container, with the Backup's location and its repository's keys only by reference")
    func restoreInitContainer() throws {
        let objects = try Self.build(state: RestoreReconciler.started)
        let spec = try Self.podSpec(objects)
        #expect(spec.initContainers?.map(\.name) == ["install-uploader", "restore"])
        let restore = try #require(spec.initContainers?.last)
        let postgres = spec.containers[0]
        #expect(restore.image == postgres.image)
        #expect(restore.command == postgres.command, "the addon's setup script, in its restore phase")
        #expect(restore.securityContext == postgres.securityContext)
        #expect(restore.livenessProbe == nil && restore.readinessProbe == nil && restore.startupProbe == nil && restore.lifecycle == nil)
        #expect(restore.terminationMessagePolicy == "FallbackToLogsOnError")
        let restoreMounts = Set((restore.volumeMounts ?? []).map(\.mountPath))
        #expect(restoreMounts.isSuperset(of: (postgres.volumeMounts ?? []).map(\.mountPath)))
        #expect(restore.volumeMounts?.contains { $0.mountPath == "/vectorblocks" } == true)
        let environment = restore.env ?? []
        let value = { (name: String) in environment.first { $0.name == name }?.value }
        #expect(value("VB_SETUP_PHASE") == "restore")
        #expect(value("VB_RESTORE_TOOL") == "/vectorblocks/vectorblocks-backup")
        #expect(value("VB_RESTORE_BUCKET") == "backups")
        #expect(value("VB_RESTORE_ENDPOINT") == "http://minio:9000")
        #expect(value("VB_RESTORE_BACKUP_PREFIX") == "pg/default/vectors/nightly/")
        #expect(value("VB_RESTORE_TARGET_TIME") == "2026-12-03T20:00:00Z")
        #expect(environment.first { $0.name == "AWS_SECRET_ACCESS_KEY" }?.valueFrom?.secretKeyRef?.name == "s3-keys")
        #expect(environment.first { $0.name == "POSTGRES_PASSWORD" }?.valueFrom?.secretKeyRef?.name == "embeddings-conn-credential")
        #expect(environment.filter { $0.name.hasPrefix("AWS_") }.allSatisfy { $0.value == nil })
        // PostgreSQL itself learns nothing of the restore: it starts as any primary once the data is in place.
        #expect(!(postgres.env ?? []).contains { $0.name.hasPrefix("VB_RESTORE") || $0.name.hasPrefix("AWS_") })
        #expect(try Self.environment(objects)[PgBasebackupRestore.pendingKey] == "true")

        let toBackupEnd = try Self.podSpec(try Self.build(state: RestoreReconciler.started, target: nil))
        #expect(toBackupEnd.initContainers?.last?.env?.contains { $0.name == "VB_RESTORE_TARGET_TIME" } == false)
    }

    @Test("a restored Cluster archiving into another repository keeps the two repositories' keys apart, with one uploader")
    func restoreAndArchive() throws {
        let archive = BackupRepository(bucket: "archive", prefix: "pg", region: "eu-west-1", credentialsSecretName: "archive-keys")
        let spec = try Self.podSpec(
            try Self.build(state: RestoreReconciler.started) {
                $0.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: archive, pitrEnabled: true)
            })
        #expect(spec.initContainers?.map(\.name) == ["install-uploader", "restore"])
        #expect(spec.volumes?.filter { $0.name == "vectorblocks-tools" }.count == 1)
        let restore = spec.initContainers?.last?.env ?? []
        let postgres = spec.containers[0].env ?? []
        #expect(restore.first { $0.name == "AWS_ACCESS_KEY_ID" }?.valueFrom?.secretKeyRef?.name == "s3-keys")
        #expect(!restore.contains { $0.name == "VB_BACKUP_WAL_PREFIX" }, "the restoring server archives nothing")
        #expect(postgres.first { $0.name == "AWS_ACCESS_KEY_ID" }?.valueFrom?.secretKeyRef?.name == "archive-keys")
        #expect(postgres.first { $0.name == "VB_BACKUP_WAL_PREFIX" }?.value == "pg/default/embeddings/wal_archive/")
    }

    @Test("after the restore the pod template stays as it was (no pod rolls) and nothing is pending any more")
    func restoredKeepsTheTemplate() throws {
        let restoring = try Self.build(state: RestoreReconciler.started)
        let restored = try Self.build(state: RestoreReconciler.succeeded)
        #expect(try object(restoring, "StatefulSet/embeddings-postgresql") == object(restored, "StatefulSet/embeddings-postgresql"))
        #expect(try Self.environment(restored)[PgBasebackupRestore.pendingKey] == nil)
    }

    @Test("a restored Cluster never archives into its source's WAL archive: the build names the field and the fix")
    func neverIntoTheSourcesArchive() throws {
        let sameArchive = PgBasebackupRestore.Source(
            backup: "nightly", repository: Self.repository, path: "pg/default/embeddings/nightly/",
            walArchivePrefix: "pg/default/embeddings/wal_archive/")
        do {
            _ = try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
                cluster.spec.restoreFrom = ClusterRestore(backupName: "nightly")
                cluster.metadata?.annotations = [
                    RestoreReconciler.stateAnnotation: RestoreReconciler.succeeded, PgBasebackupRestore.sourceAnnotation: sameArchive.annotation,
                ]
                cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: true)
            }
            Issue.record("archiving into the source's archive was built")
        } catch let error as ClusterBuildError {
            #expect(error.problems.map(\.field) == ["spec.backup.repository.prefix"])
            #expect(error.description.contains("s3://backups/pg/default/embeddings/wal_archive/"))
        }
        var otherPrefix = Self.repository
        otherPrefix.prefix = "restored"
        let spec = try Self.podSpec(
            try Self.build(state: RestoreReconciler.started) {
                $0.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: otherPrefix, pitrEnabled: true)
            })
        #expect(spec.containers[0].env?.first { $0.name == "VB_BACKUP_WAL_PREFIX" }?.value == "restored/default/embeddings/wal_archive/")
    }

    static func manifest(archive: String? = "pg/default/vectors/wal_archive/") -> BaseBackupManifest {
        BaseBackupManifest(
            startLSN: WALPosition("0/3000028")!, endLSN: WALPosition("0/3000100")!, timeline: 1,
            startTime: BaseBackupManifest.parseTimestamp("2026-12-03T18:00:00Z")!, endTime: BaseBackupManifest.parseTimestamp("2026-12-03T18:05:00Z")!,
            source: "vectors-postgresql-1:5432", fromStandby: true, size: 1 << 20, sha256: "00", walArchivePrefix: archive)
    }

    @Test("the checks before a restore refuse what cannot be restored, naming the field and the fix")
    func checks() throws {
        let check = { (time: String?, manifest: BaseBackupManifest, repository: BackupRepository, archiving: WALArchiving?) in
            PgBasebackupRestoreChecks.refusal(
                restore: ClusterRestore(backupName: "nightly", restoreToTime: time), manifest: manifest, repository: repository, archiving: archiving)
        }
        #expect(check("2026-12-03T19:00:00Z", Self.manifest(), Self.repository, nil) == nil)
        #expect(check(nil, Self.manifest(archive: nil), Self.repository, nil) == nil, "to the backup's own end needs no archive")
        #expect(
            check("2026-12-03T18:01:00Z", Self.manifest(), Self.repository, nil)?.hasPrefix("spec.restoreFrom.restoreToTime: 2026-12-03T18:01:00Z is before")
                == true)
        #expect(check("2026-12-03T19:00:00Z", Self.manifest(archive: nil), Self.repository, nil)?.contains("did not archive its WAL") == true)
        #expect(check("yesterday", Self.manifest(), Self.repository, nil)?.contains("not an RFC 3339 time") == true)
        var keyless = Self.repository
        keyless.credentialsSecretName = nil
        #expect(check(nil, Self.manifest(), keyless, nil)?.contains("credentialsSecretName") == true)
        var withRole = keyless
        withRole.roleArn = "arn:aws:iam::123456789012:role/vectorblocks-backups"
        #expect(check(nil, Self.manifest(), withRole, nil) == nil, "an IAM role reaches the bucket from the restoring pod too")
        // A new Cluster named as the source (deleted since) would archive into the source's archive.
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors")
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: true)
        let archiving = WALArchiving(cluster: cluster, uploaderImage: "u")
        #expect(check(nil, Self.manifest(), Self.repository, archiving)?.hasPrefix("spec.backup.repository.prefix:") == true)
    }

    static func pod(_ restore: CoreV1.ContainerStatus?) -> CoreV1.Pod {
        var pod = CoreV1.Pod(metadata: .init(name: "vectors-postgresql-0"))
        pod.status = CoreV1.PodStatus(initContainerStatuses: restore.map { [$0] })
        return pod
    }

    static func status(state: CoreV1.ContainerState, last: CoreV1.ContainerState? = nil, restarts: Int32 = 0) -> CoreV1.ContainerStatus {
        CoreV1.ContainerStatus(
            image: "pgvector", imageID: "", lastState: last, name: "restore", ready: false, restartCount: restarts, state: state)
    }

    @Test("the Restored condition follows the primary's restore container: starting, restoring, failed with what to do, succeeded once Running")
    func progress() throws {
        let step = { (pod: CoreV1.Pod?, running: Bool) in
            BaseBackupRestoreProgress(
                pod: pod, podName: "vectors-postgresql-0", source: Self.source, targetTime: "2026-12-03T19:00:00Z", clusterRunning: running
            )
            .step
        }
        guard case .waiting("RestoreStarting", _) = step(nil, false) else {
            Issue.record("no pod yet: \(step(nil, false))")
            return
        }
        guard case .waiting("RestoreStarting", _) = step(Self.pod(nil), false) else {
            Issue.record("no status yet")
            return
        }
        let running = step(Self.pod(Self.status(state: CoreV1.ContainerState(running: CoreV1.ContainerStateRunning()))), false)
        guard case .waiting("Restoring", let restoring) = running else {
            Issue.record("running: \(running)")
            return
        }
        #expect(restoring.contains("s3://backups/pg/default/vectors/nightly/") && restoring.contains("to 2026-12-03T19:00:00Z"))
        let log = """
            LOG:  starting point-in-time recovery to 2026-12-03 19:00:00+00
            FATAL:  recovery ended before configured recovery target was reached
            pgvector-setup: PostgreSQL stopped before its recovery finished (its log is above)
            """
        let crashed = step(
            Self.pod(
                Self.status(
                    state: CoreV1.ContainerState(waiting: CoreV1.ContainerStateWaiting(reason: "CrashLoopBackOff")),
                    last: CoreV1.ContainerState(terminated: CoreV1.ContainerStateTerminated(exitCode: 1, message: log)), restarts: 2)), false)
        guard case .waiting("RestoreFailed", let failed) = crashed else {
            Issue.record("crashed: \(crashed)")
            return
        }
        #expect(failed.contains("FATAL:  recovery ended before configured recovery target was reached"))
        #expect(failed.contains("retries by itself until the source Cluster has archived past that time"))
        let done = Self.status(state: CoreV1.ContainerState(terminated: CoreV1.ContainerStateTerminated(exitCode: 0)))
        guard case .waiting("Restoring", _) = step(Self.pod(done), false) else {
            Issue.record("restored, standbys cloning")
            return
        }
        guard case .succeeded = step(Self.pod(done), true) else {
            Issue.record("restored and Running")
            return
        }
    }
}
