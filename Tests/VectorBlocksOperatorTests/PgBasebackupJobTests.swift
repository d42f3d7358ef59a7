import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

@Suite("The pgvector backup Job and WAL archiving, as pure builders")
struct PgBasebackupJobTests {
    static let repository = BackupRepository(
        bucket: "backups", prefix: "prod", region: "eu-west-1", endpoint: "http://minio:9000", credentialsSecretName: "s3-keys")

    static func input(backup name: String = "nightly", standby: Bool = true, archive: String? = nil) -> PgBasebackupJob.Input {
        let backup = Backup(
            metadata: .init(name: name, namespace: "shop", uid: "u-1"), spec: BackupSpec(clusterName: "vectors", backupMethod: .pgBasebackup))
        return PgBasebackupJob.Input(
            backup: backup, names: ClusterNames(cluster: "vectors", namespace: "shop"), component: "postgresql", sourcePod: "vectors-postgresql-1",
            sourceIsStandby: standby, primaryPod: "vectors-postgresql-0", repository: repository, credentials: .secret("s3-keys"),
            path: "prod/shop/vectors/\(name)/", walArchivePrefix: archive,
            postgresImage: "pgvector/pgvector:pg17", uploaderImage: "docker.io/vectorblocks/backup:0.1.0")
    }

    @Test("the Job runs the cluster's image with the uploader copied in, copies the standby by its DNS name, and carries no secret value")
    func job() throws {
        let job = try PgBasebackupJob.build(Self.input(archive: "prod/shop/vectors/wal_archive/"))
        #expect(job["metadata"]?["name"] == "nightly-basebackup")
        #expect(job["metadata"]?["ownerReferences"]?.arrayValue?.first?["kind"] == "Backup")
        #expect(job["metadata"]?["ownerReferences"]?.arrayValue?.first?["controller"] == true)
        let pod = try #require(job["spec"]?["template"]?["spec"])
        #expect(pod["restartPolicy"] == "Never")
        #expect(pod["initContainers"]?.arrayValue?.first?["image"] == "docker.io/vectorblocks/backup:0.1.0")
        #expect(pod["initContainers"]?.arrayValue?.first?["command"] == ["vectorblocks-backup", "install", "/vectorblocks"])
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["image"] == "pgvector/pgvector:pg17")
        let arguments = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(arguments.contains("vectors-postgresql-1.vectors-postgresql-headless.shop.svc.cluster.local"))
        #expect(arguments.contains("--standby"))
        #expect(arguments.contains("vectors-postgresql-0.vectors-postgresql-headless.shop.svc.cluster.local"), "the primary, asked for a CHECKPOINT")
        #expect(arguments.contains("prod/shop/vectors/wal_archive/"))
        #expect(arguments.contains("http://minio:9000"))
        let environment = container["env"]?.arrayValue ?? []
        #expect(environment.allSatisfy { $0["value"] == nil }, "credentials only through secretKeyRef")
        #expect(environment.first { $0["name"] == "PGPASSWORD" }?["valueFrom"]?["secretKeyRef"]?["name"] == "vectors-conn-credential")
        #expect(environment.first { $0["name"] == "AWS_ACCESS_KEY_ID" }?["valueFrom"]?["secretKeyRef"]?["name"] == "s3-keys")
        #expect(container["securityContext"]?["runAsNonRoot"] == true)

        let fromPrimary = try PgBasebackupJob.build(Self.input(standby: false))
        let primaryArguments = (fromPrimary["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["args"]?.arrayValue ?? []).compactMap(
            \.stringValue)
        #expect(primaryArguments.contains("--host"))
        #expect(!primaryArguments.contains("--standby"))
        #expect(!primaryArguments.contains("--wal-archive-prefix"))
    }

    @Test("a long Backup name gives a Job name of at most 63 characters, distinct per Backup")
    func longNames() {
        let long = String(repeating: "a", count: 70)
        let first = PgBasebackupJob.name(backup: long)
        let second = PgBasebackupJob.name(backup: long + "b")
        #expect(first.count <= 63 && second.count <= 63)
        #expect(first != second)
        #expect(first.hasSuffix("-basebackup"))
    }

    @Test("pitrEnabled gives the PostgreSQL container the uploader, the archive's settings and the keys; off, nothing changes")
    func archiving() throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors", namespace: "shop")
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: false)
        #expect(WALArchiving(cluster: cluster, uploaderImage: "u") == nil)
        cluster.spec.backup?.pitrEnabled = true
        let archiving = try #require(WALArchiving(cluster: cluster, uploaderImage: "docker.io/vectorblocks/backup:0.1.0"))
        #expect(archiving.walArchivePrefix == "prod/shop/vectors/wal_archive/")
        var spec = CoreV1.PodSpec(containers: [CoreV1.Container(name: "postgresql"), CoreV1.Container(name: "exporter")])
        archiving.apply(to: &spec, serviceAccount: "vectors-backup")
        #expect(spec.initContainers?.first?.name == "install-uploader")
        #expect(spec.volumes?.contains { $0.name == "vectorblocks-tools" && $0.emptyDir != nil } == true)
        let environment = spec.containers[0].env ?? []
        #expect(environment.first { $0.name == "VB_BACKUP_WAL_PREFIX" }?.value == "prod/shop/vectors/wal_archive/")
        #expect(environment.first { $0.name == "VB_BACKUP_TOOL" }?.value == "/vectorblocks/vectorblocks-backup")
        #expect(environment.first { $0.name == "AWS_SECRET_ACCESS_KEY" }?.valueFrom?.secretKeyRef?.name == "s3-keys")
        #expect(spec.containers[1].env == nil)
    }

    @Test("pitrEnabled is refused for Qdrant, and for pgvector without the repository's keys, naming the field")
    func validation() throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors")
        var repository = Self.repository
        repository.credentialsSecretName = nil
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: repository, pitrEnabled: true)
        #expect(cluster.validateBackup(engine: "postgresql").map(\.field) == ["spec.backup.repository.credentialsSecretName"])
        cluster.spec.backup?.repository = Self.repository
        #expect(cluster.validateBackup(engine: "postgresql").isEmpty)
        cluster.spec.backup?.method = .qdrantSnapshot
        #expect(cluster.validateBackup(engine: "qdrant").map(\.field) == ["spec.backup.pitrEnabled"])
    }
}
