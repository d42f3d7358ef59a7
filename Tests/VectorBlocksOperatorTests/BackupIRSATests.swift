import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// A backup repository naming an IAM role (`roleArn`): every container that talks to S3 (the backup Job, WAL
/// archiving, a restore) runs under the Cluster's ServiceAccount `<cluster>-backup` with what EKS's pod identity
/// webhook gives, as pure builders; and the API's refusals.
@Suite("IRSA for backup pods, as pure builders")
struct BackupIRSATests {
    static let role = "arn:aws:iam::123456789012:role/vectorblocks-backups"
    static let repository = BackupRepository(bucket: "backups", prefix: "pg", region: "eu-west-1", roleArn: role)

    /// The IRSA pieces one container and its pod must have, with no AWS key from a Secret.
    static func expectWebIdentity(_ container: CoreV1.Container, in spec: CoreV1.PodSpec, account: String) {
        let environment = Dictionary((container.env ?? []).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        #expect(environment["AWS_ROLE_ARN"]?.value == role, "\(container.name)")
        #expect(environment["AWS_WEB_IDENTITY_TOKEN_FILE"]?.value == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        #expect(environment["AWS_REGION"]?.value == "eu-west-1")
        #expect(environment["AWS_STS_REGIONAL_ENDPOINTS"]?.value == "regional")
        #expect(environment["AWS_ACCESS_KEY_ID"] == nil && environment["AWS_SECRET_ACCESS_KEY"] == nil, "no key from a Secret")
        let mount = container.volumeMounts?.first { $0.name == "aws-iam-token" }
        #expect(mount?.mountPath == "/var/run/secrets/eks.amazonaws.com/serviceaccount" && mount?.readOnly == true, "\(container.name)")
        let token = spec.volumes?.first { $0.name == "aws-iam-token" }?.projected?.sources?.first?.serviceAccountToken
        #expect(token?.audience == "sts.amazonaws.com")
        #expect(token?.expirationSeconds == 86400)
        #expect(token?.path == "token")
        #expect(spec.volumes?.filter { $0.name == "aws-iam-token" }.count == 1, "one token volume per pod")
        #expect(spec.serviceAccountName == account)
    }

    @Test("the backup Job runs under <cluster>-backup with the projected web-identity token and the role in its environment")
    func job() throws {
        var input = PgBasebackupJobTests.input()
        input.repository = Self.repository
        input.credentials = try #require(BackupPodCredentials(Self.repository))
        let job = try PgBasebackupJob.build(input)
        let spec = try #require(job["spec"]?["template"]?["spec"]).decode(as: CoreV1.PodSpec.self)
        Self.expectWebIdentity(spec.containers[0], in: spec, account: "vectors-backup")
        #expect(spec.automountServiceAccountToken == false, "no Kubernetes API token, only the STS one")
        #expect(spec.containers[0].env?.first { $0.name == "PGPASSWORD" }?.valueFrom?.secretKeyRef?.name == "vectors-conn-credential")
        #expect(spec.initContainers?.first?.env == nil, "the installer talks to no one")
    }

    @Test("a role on a Cluster archiving its WAL gives the ServiceAccount, annotated with it, and the PostgreSQL container the token")
    func archiving() throws {
        let objects = try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
            cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: true)
        }.objects
        let account = try object(objects, "ServiceAccount/embeddings-backup").decode(as: CoreV1.ServiceAccount.self)
        #expect(account.metadata?.annotations == ["eks.amazonaws.com/role-arn": Self.role])
        #expect(account.metadata?.ownerReferences?.first?.kind == "Cluster")
        #expect(account.metadata?.ownerReferences?.first?.controller == true)
        let index = try #require(objects.firstIndex { $0.description == "ServiceAccount/embeddings-backup" })
        let workload = try #require(objects.firstIndex { $0.description.hasPrefix("StatefulSet/") })
        #expect(index < workload, "applied before the pods that need it")
        let spec = try PgBasebackupRestoreTests.podSpec(objects)
        Self.expectWebIdentity(spec.containers[0], in: spec, account: "embeddings-backup")
        #expect(spec.containers[0].env?.contains { $0.name == "VB_BACKUP_WAL_PREFIX" } == true)
        let others = spec.containers.dropFirst().flatMap { container in container.env ?? [] }
        #expect(others.allSatisfy { variable in !variable.name.hasPrefix("AWS_") }, "only PostgreSQL's container archives")

        let withKeys = try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
            var repository = Self.repository
            repository.roleArn = nil
            repository.credentialsSecretName = "s3-keys"
            cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: repository, pitrEnabled: true)
        }.objects
        #expect(!withKeys.contains { $0.description.hasPrefix("ServiceAccount/") }, "keys need no ServiceAccount")
        #expect(try PgBasebackupRestoreTests.podSpec(withKeys).serviceAccountName == nil)
    }

    @Test("a restore from a Backup whose repository names a role gives the restore init container the token, under the same ServiceAccount")
    func restore() throws {
        let source = PgBasebackupRestore.Source(
            backup: "nightly", repository: Self.repository, path: "pg/default/vectors/nightly/", walArchivePrefix: "pg/default/vectors/wal_archive/")
        let objects = try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
            cluster.spec.restoreFrom = ClusterRestore(backupName: "nightly")
            cluster.metadata?.annotations = [
                RestoreReconciler.stateAnnotation: RestoreReconciler.started, PgBasebackupRestore.sourceAnnotation: source.annotation,
            ]
        }.objects
        let account = try object(objects, "ServiceAccount/embeddings-backup").decode(as: CoreV1.ServiceAccount.self)
        #expect(account.metadata?.annotations?["eks.amazonaws.com/role-arn"] == Self.role)
        let spec = try PgBasebackupRestoreTests.podSpec(objects)
        let restore = try #require(spec.initContainers?.first { $0.name == "restore" })
        Self.expectWebIdentity(restore, in: spec, account: "embeddings-backup")
        #expect(spec.containers[0].env?.contains { $0.name == "AWS_ROLE_ARN" } != true, "PostgreSQL's own container archives nothing here")
    }

    @Test("a component with its own ServiceAccount cannot also run under the backup one; the refusal names both fields")
    func componentAccountConflict() throws {
        let error = #expect(throws: ClusterBuildError.self) {
            try buildExample("pgvector-cluster.yaml", addon: .pgvector) { cluster in
                cluster.spec.backup = ClusterBackup(
                    method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: true)
                cluster.spec.componentSpecs[0].serviceAccountName = "mine"
            }
        }
        #expect(error?.problems.map(\.field) == ["spec.componentSpecs[0].serviceAccountName"])
        #expect(error?.description.contains("spec.backup.repository.roleArn") == true, "\(String(describing: error))")
    }

    @Test("roleArn with credentialsSecretName, or a malformed ARN, is refused naming the fields and the fix")
    func validation() throws {
        var both = Self.repository
        both.credentialsSecretName = "s3-keys"
        let backup = { (repository: BackupRepository) in
            Backup(metadata: .init(name: "b", namespace: "shop"), spec: BackupSpec(clusterName: "vectors", backupMethod: .pgBasebackup, repository: repository))
        }
        let refusals = backup(both).validate()
        #expect(refusals.map(\.field) == ["spec.repository.roleArn"])
        #expect(refusals.first?.message.contains("spec.repository.credentialsSecretName") == true, "\(refusals)")
        #expect(backup(Self.repository).validate().isEmpty)
        for arn in [
            "arn:aws:iam::123456789012:role/a/b/backup", "arn:aws-cn:iam::123456789012:role/backup", "arn:aws-us-gov:iam::123456789012:role/backup",
        ] {
            var good = Self.repository
            good.roleArn = arn
            #expect(backup(good).validate().isEmpty, "\(arn)")
        }
        for arn in [
            "arn:aws:iam::12345678901:role/backup", "arn:aws:iam::123456789012:user/backup", "arn:aws:s3:::backups", "role/backup",
            "arn:aws:iam::123456789012:role/", "arn:gcp:iam::123456789012:role/backup",
        ] {
            var bad = Self.repository
            bad.roleArn = arn
            let errors = backup(bad).validate()
            #expect(errors.map(\.field) == ["spec.repository.roleArn"], "\(arn)")
            #expect(errors.first?.fix.contains("arn:aws:iam::") == true)
        }

        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors")
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: Self.repository, pitrEnabled: true)
        #expect(cluster.validateBackup(engine: "postgresql").isEmpty, "a role is enough for the pods to archive")
        cluster.spec.backup?.repository = both
        #expect(cluster.validateBackup(engine: "postgresql").map(\.field) == ["spec.backup.repository.roleArn"])
    }
}
