import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import Logging
import ObjectStorage
import PostgresBackup
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksOperator

#if canImport(Glibc)
import Glibc
#endif

private let postgres = processPodPostgres

/// A pgvector Backup taken the way a cluster takes it: the operator makes a Job that runs in the cluster's own
/// PostgreSQL image with vectorblocks-backup copied in by an init container (both really run, KubeSim's process
/// runtime), and it streams a standby's base backup into moto's S3, which the pods reach at the pod network's gateway.
/// Then the operator restores it to a point in time into a new Cluster whose primary starts from the backup.
@Suite(
    .enabled(if: canRunPgvectorProcessPods, pgvectorProcessPodsSkipReason))
struct PgvectorBackupOnProcessPodsTests {
    static let bucket = "pg-backups"
    static let keys = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]

    @Test func aBackupJobCopiesTheStandbyIntoS3AndANewClusterRestoresItToAPointInTime() async throws {
        let postgres = try #require(postgres)
        let uploader = try BuiltProduct.path("vectorblocks-backup")
        let moto = try await MotoServer.start(listening: "0.0.0.0")
        var configuration = KubeSimConfiguration()
        var workloads = WorkloadSimulation()
        let uploaderImage = ImageMap.Entry(repository: "vectorblocks/backup", binDirectory: (uploader as NSString).deletingLastPathComponent)
        workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: ImageMap([postgres, uploaderImage])))
        configuration.workloads = workloads
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withKubeSim(configuration: configuration) { server, client in
                let gateway = try #require(server.podNetwork?.gateway)
                let endpoint = "http://\(gateway):\(moto.port)"
                let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
                let s3 = S3Client(
                    bucket: Self.bucket, region: "eu-west-1", endpoint: endpoint, credentials: credentials, http: http, logger: Logger(label: "test"))
                try await s3.createBucket()
                try await installOperatorPrerequisites(client)
                _ = try await client.create(
                    CoreV1.Secret(
                        metadata: .init(name: "s3-keys", namespace: "default"),
                        stringData: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]))
                let running = RunningOperator(client: client, podAddressing: .podIP)
                do {
                    try await backUp(client: client, s3: s3, endpoint: endpoint, psql: postgres.binDirectory + "/psql")
                } catch {
                    await running.stop()
                    throw error
                }
                await running.stop()
            }
        } catch {
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        try await http.shutdown()
        moto.stop()
    }

    private func backUp(client: KubeClient, s3: S3Client, endpoint: String, psql: String) async throws {
        let repository = BackupRepository(bucket: Self.bucket, prefix: "pg", region: "eu-west-1", endpoint: endpoint, credentialsSecretName: "s3-keys")
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors")
        cluster.spec.componentSpecs[0].replicas = 2
        // Archiving on; the schedule itself fires at 03:00 only.
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: repository, pitrEnabled: true)
        _ = try await client.create(cluster)
        _ = try await waitForPhase(.running, "vectors", client: client)
        _ = try await eventually("a primary and a standby labelled") { () -> Bool? in
            let roles = try await client.list(CoreV1.Pod.self, namespace: "default").items.compactMap { $0.metadata?.labels?[ClusterNames.roleLabel] }
            return roles.sorted() == ["primary", "secondary"] ? true : nil
        }
        let secret = try await client.get(CoreV1.Secret.self, name: "vectors-conn-credential", namespace: "default")
        let decode = { (key: String) in (secret.data?[key]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let primary = try #require(
            try await client.get(CoreV1.Pod.self, name: "vectors-postgresql-0", namespace: "default").status?.podIP)
        // psql waits on a Dispatch thread (TestSupport's run), never on the cooperative pool the servers share.
        let sql = { (statement: String) async throws -> String in
            let result = try await run(
                psql, ["-h", primary, "-U", decode("username"), "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", statement],
                environment: ["PGPASSWORD": decode("password"), "PGCONNECT_TIMEOUT": "5"])
            guard result.status == 0 else { throw TestSetupError("psql failed on \(statement): \(result.output)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await sql("create table items (id serial primary key, phase text not null)")
        _ = try await sql("insert into items (phase) select 'before' from generate_series(1, 100)")
        let written = try await sql("select pg_current_wal_lsn()")
        _ = try await eventually("the standby to replay \(written)") { () -> Bool? in
            try await sql("select replay_lsn >= '\(written)'::pg_lsn from pg_stat_replication") == "t" ? true : nil
        }
        _ = try await client.create(
            Backup(
                metadata: .init(name: "nightly", namespace: "default"),
                spec: BackupSpec(clusterName: "vectors", backupMethod: .pgBasebackup, repository: repository)))
        let backup = try await eventually("Backup nightly to finish", timeout: .seconds(300)) { () -> Backup? in
            let backup = try await client.get(Backup.self, name: "nightly", namespace: "default")
            return [.completed, .failed].contains(backup.status?.phase) ? backup : nil
        }
        #expect(backup.status?.phase == .completed, "\(backup.status?.failureReason ?? "")")
        #expect(backup.status?.sourcePod == "vectors-postgresql-1")
        #expect(backup.status?.path == "pg/default/vectors/nightly/")
        let wal = try #require(backup.status?.wal)
        #expect(wal.timeline >= 1)
        #expect(WALPosition(wal.startLSN)! <= WALPosition(wal.endLSN)!)
        let manifest = try BaseBackupManifest.decoded(try await s3.getObjectBytes("pg/default/vectors/nightly/manifest.json"))
        #expect(manifest.fromStandby)
        #expect(backup.status?.totalSize ?? 0 > manifest.size)
        let job = try await client.get(
            ResourceDescriptor(group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true), name: "nightly-basebackup",
            namespace: "default")
        #expect(job["status"]?["succeeded"] == 1)
        let walPrefix = "pg/default/vectors/wal_archive/"
        #expect(manifest.walArchivePrefix == walPrefix)

        // The primary archives each WAL segment, and the backup with the archive restores to a point in time.
        _ = try await sql("insert into items (phase) select 'after-backup' from generate_series(1, 50)")
        let target = try await sql(#"select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
        _ = try await sql("insert into items (phase) select 'too-late' from generate_series(1, 25)")
        let segment = try await sql("select pg_walfile_name(pg_switch_wal())")
        _ = try await eventually("WAL segment \(segment) in the archive", timeout: .seconds(120)) { () -> Bool? in
            try await s3.listObjects(prefix: walPrefix + segment).isEmpty ? nil : true
        }
        let restored = try await PostgresServer.unstarted(environment: Self.keys)
        let restore = try await restored.runAsServerUser(
            try BuiltProduct.path("vectorblocks-backup"),
            [
                "restore", "--bucket", Self.bucket, "--region", "eu-west-1", "--endpoint", s3.endpoint ?? "", "--backup-prefix", "pg/default/vectors/nightly/",
                "--pgdata", restored.dataDirectory, "--target-time", target,
            ],
            environment: Self.keys)
        try #require(restore.status == 0, "\(restore.output)")
        // The pods read pg_hba.conf from a ConfigMap; the one in the data directory is initdb's (passwords), and this
        // by-hand restore's own access rules are the test's: trust on the loopback.
        try "local all all trust\nhost all all 127.0.0.1/32 trust\n".write(toFile: restored.dataDirectory + "/pg_hba.conf", atomically: false, encoding: .utf8)
        try await restored.startProcess()
        _ = try await eventually("the restored server to finish recovery") { try await restored.psql("select pg_is_in_recovery()") == "f" ? true : nil }
        #expect(
            try await restored.psql("select string_agg(phase || '=' || n, ',' order by phase) from (select phase, count(*) n from items group by phase) c")
                == "after-backup=50,before=100")
        try await restored.stop()

        try await restoreIntoANewCluster(
            client: client, s3: s3, repository: repository, target: target, psql: psql, sourcePassword: decode("password"))

        // A backup into a bucket that does not exist fails, and says so in the words of the Job's pod.
        var missingBucket = repository
        missingBucket.bucket = "no-such-bucket"
        _ = try await client.create(
            Backup(
                metadata: .init(name: "broken", namespace: "default"),
                spec: BackupSpec(clusterName: "vectors", backupMethod: .pgBasebackup, repository: missingBucket)))
        let broken = try await eventually("Backup broken to finish", timeout: .seconds(300)) { () -> Backup? in
            let backup = try await client.get(Backup.self, name: "broken", namespace: "default")
            return [.completed, .failed].contains(backup.status?.phase) ? backup : nil
        }
        #expect(broken.status?.phase == .failed)
        #expect(broken.status?.failureReason?.contains("broken-basebackup failed") == true, "\(broken.status?.failureReason ?? "")")
        #expect(broken.status?.failureReason?.contains("NoSuchBucket") == true, "\(broken.status?.failureReason ?? "")")
    }

    /// The operator restores Backup nightly to `target` into a new 2-replica Cluster archiving into its own prefix:
    /// its primary starts from the backup and replays the source's archive, its standby clones it, and its own
    /// Secret's password works; a time before the backup's end is refused before any pod starts.
    private func restoreIntoANewCluster(
        client: KubeClient, s3: S3Client, repository: BackupRepository, target: String, psql: String, sourcePassword: String
    ) async throws {
        var tooEarly = try exampleCluster("pgvector-cluster.yaml", name: "too-early")
        tooEarly.spec.componentSpecs[0].replicas = 1
        tooEarly.spec.restoreFrom = ClusterRestore(backupName: "nightly", restoreToTime: "2020-01-01T00:00:00Z")
        _ = try await client.create(tooEarly)
        let refusal: MetaV1.Condition
        do {
            refusal = try await eventually("the too-early restore to be refused") { () -> MetaV1.Condition? in
                let cluster = try await client.get(Cluster.self, name: "too-early", namespace: "default")
                return cluster.status?.conditions?.first { $0.type == "Restored" && $0.reason == "RestoreRefused" }
            }
        } catch {
            let cluster = try? await client.get(Cluster.self, name: "too-early", namespace: "default")
            throw TestSetupError("\(error); annotations \(cluster?.metadata?.annotations ?? [:]), conditions \(cluster?.status?.conditions ?? [])")
        }
        #expect(refusal.message.hasPrefix("spec.restoreFrom.restoreToTime: 2020-01-01T00:00:00Z is before Backup nightly ended"), "\(refusal.message)")
        #expect(try await client.list(AppsV1.StatefulSet.self, namespace: "default").items.allSatisfy { $0.metadata?.name != "too-early-postgresql" })

        var archive = repository
        archive.prefix = "restored-pg"
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "restored")
        cluster.spec.componentSpecs[0].replicas = 2
        cluster.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: archive, pitrEnabled: true)
        cluster.spec.restoreFrom = ClusterRestore(backupName: "nightly", restoreToTime: target)
        _ = try await client.create(cluster)
        let restoreStarted = ContinuousClock.now
        let restored = try await eventually("Cluster restored to be restored", timeout: .seconds(300)) { () -> MetaV1.Condition? in
            let cluster = try await client.get(Cluster.self, name: "restored", namespace: "default")
            let condition = cluster.status?.conditions?.first { $0.type == "Restored" }
            if condition?.reason == "RestoreFailed" || condition?.reason == "RestoreRefused" {
                throw TestSetupError("restore failed: \(condition?.message ?? "")")
            }
            return condition?.status == "True" ? condition : nil
        }
        #expect(restored.reason == "RestoreSucceeded")
        // A figure, not a check: from the Cluster's creation to Restored=True (primary restored, standby cloned).
        print("pgvector restore to a point in time into a 2-replica Cluster on process pods: \(ContinuousClock.now - restoreStarted)")
        _ = try await waitForPhase(.running, "restored", client: client)
        let reasons = try await client.list(CoreV1.Event.self, namespace: "default").items.filter { $0.involvedObject.name == "restored" }.compactMap(\.reason)
        #expect(reasons.contains("RestoreStarting") && reasons.contains("RestoreSucceeded"), "\(reasons)")

        // The new Cluster's own password: the restore set it on the role, the standby cloned with it.
        let secret = try await client.get(CoreV1.Secret.self, name: "restored-conn-credential", namespace: "default")
        let decode = { (key: String) in (secret.data?[key]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        #expect(decode("password") != sourcePassword)
        let address = { (pod: String) async throws -> String in
            try #require(try await client.get(CoreV1.Pod.self, name: pod, namespace: "default").status?.podIP)
        }
        let sql = { (host: String, statement: String) async throws -> String in
            let result = try await run(
                psql, ["-h", host, "-U", decode("username"), "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", statement],
                environment: ["PGPASSWORD": decode("password"), "PGCONNECT_TIMEOUT": "5"])
            guard result.status == 0 else { throw TestSetupError("psql on \(host) failed on \(statement): \(result.output)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let primary = try await address("restored-postgresql-0")
        let standby = try await address("restored-postgresql-1")
        let counts = "select string_agg(phase || '=' || n, ',' order by phase) from (select phase, count(*) n from items group by phase) c"
        #expect(try await sql(primary, counts) == "after-backup=50,before=100")
        #expect(try await sql(primary, "select pg_is_in_recovery()") == "f")
        #expect(try await sql(primary, "select count(*) from pg_stat_replication where state = 'streaming'") == "1")
        #expect(try await sql(standby, "select pg_is_in_recovery()") == "t")
        // The standby inherited no recovery target from the restore: it follows what the new primary writes.
        _ = try await sql(primary, "insert into items (phase) values ('restored')")
        let written = try await sql(primary, "select pg_current_wal_lsn()")
        _ = try await eventually("the standby to replay \(written)") { () -> Bool? in
            try await sql(standby, "select pg_last_wal_replay_lsn() >= '\(written)'::pg_lsn") == "t" ? true : nil
        }
        #expect(try await sql(standby, "select count(*) from items where phase = 'restored'") == "1")

        // It archives its new timeline into its own prefix, never into the source's archive.
        let segment = try await sql(primary, "select pg_walfile_name(pg_switch_wal())")
        #expect(!segment.hasPrefix("00000001"), "a point-in-time restore promotes onto a new timeline")
        _ = try await eventually("WAL segment \(segment) in the restored Cluster's archive", timeout: .seconds(120)) { () -> Bool? in
            try await s3.listObjects(prefix: "restored-pg/default/restored/wal_archive/" + segment).isEmpty ? nil : true
        }
        let sourceArchive = try await s3.listObjects(prefix: "pg/default/vectors/wal_archive/").map(\.key)
        #expect(!sourceArchive.contains { !($0.split(separator: "/").last ?? "").hasPrefix("00000001") }, "\(sourceArchive)")
    }
}
