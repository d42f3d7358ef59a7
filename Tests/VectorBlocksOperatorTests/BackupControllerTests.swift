import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import Logging
import OperatorKit
import Synchronization
import TestSupport
import Testing
import VectorBlocksAPI
import VectorSync

@testable import VectorBlocksOperator

/// The Backup, restore and schedule controllers end to end: the operator in this process, KubeSim's simulated pods
/// mapped onto Qdrant doubles (one server per peer), and moto's S3.
@Suite("Backup controllers against KubeSim, the Qdrant double and moto")
struct BackupControllerTests {
    static let apiKey = "backup-controller-key"
    static let bucket = "cluster-backups"

    static func peerURI(_ cluster: String) -> (Int) -> String {
        { "http://\(cluster)-qdrant-\($0).\(cluster)-qdrant-headless.default.svc.cluster.local:6335" }
    }

    static func credential(_ cluster: String, client: KubeClient) async throws {
        _ = try await client.create(
            CoreV1.Secret(
                metadata: .init(
                    labels: [ClusterNames.managedByLabel: ClusterNames.managedBy, ClusterNames.instanceLabel: cluster],
                    name: "\(cluster)-conn-credential", namespace: "default"),
                stringData: ["apiKey": apiKey]))
    }

    static func cluster(_ name: String, replicas: Int32, policy: TerminationPolicy, restoreFrom: String? = nil) throws -> Cluster {
        var cluster = try exampleCluster("qdrant-cluster.yaml", name: name)
        cluster.spec.componentSpecs[0].replicas = replicas
        cluster.spec.terminationPolicy = policy
        cluster.spec.restoreFrom = restoreFrom.map { ClusterRestore(backupName: $0) }
        return cluster
    }

    static func repository(_ moto: MotoServer) -> BackupRepository {
        BackupRepository(bucket: bucket, prefix: "vb", region: "eu-west-1", endpoint: moto.endpoint, credentialsSecretName: "s3-keys")
    }

    static func waitForBackup(_ name: String, client: KubeClient) async throws -> Backup {
        try await eventually("Backup \(name) to finish") {
            let backup = try await client.get(Backup.self, name: name, namespace: "default")
            return [.completed, .failed].contains(backup.status?.phase) ? backup : nil
        }
    }

    static func gone<Object: KubernetesObject>(_ type: Object.Type, _ name: String, client: KubeClient) async throws {
        _ = try await eventually("\(Object.descriptor.kind) \(name) to be deleted") { () -> Bool? in
            do {
                _ = try await client.get(type, name: name, namespace: "default")
                return nil
            } catch let error as KubeAPIError where error.isNotFound {
                return true
            }
        }
    }

    @Test func backUpRestoreIntoASmallerClusterThenWipeOutDeletesTheBackupsAndDeleteKeepsThem() async throws {
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let simulation = QdrantClusterSimulation(transferDuration: .milliseconds(100))
        let source = try await QdrantServer.startPeers(3, apiKey: Self.apiKey, simulation: simulation, peerURI: Self.peerURI("vectors"))
        let target = try await QdrantServer.startPeers(2, apiKey: Self.apiKey, simulation: simulation, peerURI: Self.peerURI("copy"))
        let servers = ["vectors": source, "copy": target]
        let addressing = PodAddressing { pod, _ in
            guard let name = pod.metadata?.name, let ordinal = EngineComponent.ordinal(inPodName: name),
                let peers = servers.first(where: { name.hasPrefix("\($0.key)-qdrant-") })?.value, ordinal < peers.count
            else { return nil }
            return ("127.0.0.1", peers[ordinal].port)
        }
        let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
        let s3 = S3Client(
            bucket: Self.bucket, region: "eu-west-1", endpoint: moto.endpoint, credentials: credentials, http: http, logger: Logger(label: "test"))
        do {
            try await s3.createBucket()
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                for name in ["vectors", "copy"] { try await Self.credential(name, client: client) }
                _ = try await client.create(
                    CoreV1.Secret(
                        metadata: .init(name: "s3-keys", namespace: "default"),
                        stringData: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]))
                let running = RunningOperator(client: client, podAddressing: addressing)
                _ = try await client.create(try Self.cluster("vectors", replicas: 3, policy: .wipeOut))
                _ = try await waitForPhase(.running, "vectors", client: client)
                try await QdrantBackupRestoreTests.fill(source[0], count: 240)

                _ = try await client.create(
                    Backup(
                        metadata: .init(name: "nightly", namespace: "default"),
                        spec: BackupSpec(clusterName: "vectors", backupMethod: .qdrantSnapshot, repository: Self.repository(moto))))
                let backup = try await Self.waitForBackup("nightly", client: client)
                #expect(backup.status?.phase == .completed, "\(String(describing: backup.status?.failureReason))")
                #expect(backup.status?.collections == [BackupCollection(name: "docs", shards: 3, replicationFactor: 2, points: 240)])
                #expect(backup.status?.path == "vb/default/vectors/nightly/")
                let stored = try await s3.listObjects(prefix: "vb/default/vectors/nightly/")
                #expect(stored.count == 4 && backup.status?.totalSize == stored.reduce(0) { $0 + $1.size })

                // A snapshot restores its own moment: a target time is refused, naming the field.
                var toTime = try Self.cluster("later", replicas: 1, policy: .delete, restoreFrom: "nightly")
                toTime.spec.restoreFrom?.restoreToTime = "2026-12-03T10:00:00Z"
                _ = try await client.create(toTime)
                let refusal = try await eventually("the target time to be refused") { () -> MetaV1.Condition? in
                    let later = try await client.get(Cluster.self, name: "later", namespace: "default")
                    return Conditions.find(later.status?.conditions, type: RestoreReconciler.conditionType).flatMap {
                        $0.status == "False" && $0.reason == "RestoreRefused" ? $0 : nil
                    }
                }
                #expect(refusal.message.hasPrefix("spec.restoreFrom.restoreToTime: a qdrant-snapshot Backup restores the state at its own time"))
                // A writer whose copy of the conditions predates the refusal drops it; the refusal is told again.
                _ = try await client.patch(
                    Cluster.self, name: "later", namespace: "default", patch: .merge(["status": ["conditions": []]]), subresource: "status")
                let retold = try await eventually("the refusal told again") { () -> MetaV1.Condition? in
                    let later = try await client.get(Cluster.self, name: "later", namespace: "default")
                    return Conditions.find(later.status?.conditions, type: RestoreReconciler.conditionType)
                }
                #expect(retold.reason == "RestoreRefused" && retold.message == refusal.message)
                let refusals = try await client.list(CoreV1.Event.self, namespace: "default").items.filter {
                    $0.reason == "RestoreRefused" && $0.involvedObject.name == "later"
                }
                #expect(refusals.count == 1 && refusals.first?.count ?? 1 == 1, "one Event for one refusal")

                _ = try await client.create(try Self.cluster("copy", replicas: 2, policy: .delete, restoreFrom: "nightly"))
                _ = try await eventually("the copy to be restored") { () -> Bool? in
                    let copy = try await client.get(Cluster.self, name: "copy", namespace: "default")
                    return Conditions.find(copy.status?.conditions, type: RestoreReconciler.conditionType)?.status == "True" ? true : nil
                }
                #expect(await QdrantBackupRestoreTests.contents(target[0]) == QdrantBackupRestoreTests.contents(source[0]))
                let copyPeers = Set(target.compactMap(\.peerID))
                #expect(await target[0].activeReplicas(of: "docs") == [0: copyPeers, 1: copyPeers, 2: copyPeers])

                // A backup of the copy, which Delete keeps when the copy goes.
                _ = try await client.create(
                    Backup(
                        metadata: .init(name: "copy-once", namespace: "default"),
                        spec: BackupSpec(clusterName: "copy", backupMethod: .qdrantSnapshot, repository: Self.repository(moto))))
                #expect(try await Self.waitForBackup("copy-once", client: client).status?.phase == .completed)
                try await client.delete(Cluster.self, name: "copy", namespace: "default")
                try await Self.gone(Cluster.self, "copy", client: client)
                #expect(try await client.get(Backup.self, name: "copy-once", namespace: "default").status?.phase == .completed)

                // WipeOut takes the source's backup with it, data included; the copy's stays.
                try await client.delete(Cluster.self, name: "vectors", namespace: "default")
                try await Self.gone(Cluster.self, "vectors", client: client)
                try await Self.gone(Backup.self, "nightly", client: client)
                #expect(try await s3.listObjects(prefix: "vb/default/vectors/").isEmpty)
                #expect(try await s3.listObjects(prefix: "vb/default/copy/copy-once/").count == 4)
                #expect(source[0].schemaViolations() == [] && target[0].schemaViolations() == [])
                await running.stop()
            }
        } catch {
            for server in source + target { try? await server.shutdown() }
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        for server in source + target { try await server.shutdown() }
        try await http.shutdown()
        moto.stop()
    }

    /// The schedule reconciler against KubeSim with a clock the test moves: a Backup at each fire time, and the old
    /// ones deleted past their retention while the newest Completed one stays.
    @Test func theScheduleMakesBackupsOnTimeAndRetentionDeletesTheOldOnes() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            var cluster = try Self.cluster("vectors", replicas: 1, policy: .delete)
            cluster.spec.backup = ClusterBackup(
                method: .qdrantSnapshot, cronExpression: "0 3 * * *", retentionPeriod: "2d",
                repository: BackupRepository(bucket: "b-bucket", region: "eu-west-1"))
            _ = try await client.create(cluster)
            let clock = TestClock(Date())
            let events = EventRecorder(client: client, component: "vectorblocks-operator")
            let schedule = BackupScheduleReconciler(client: client, events: events, now: { clock.now }, logger: Logger(label: "test"))
            let key = ObjectKey(namespace: "default", name: "vectors")
            func scheduled() async throws -> [String] {
                try await client.list(Backup.self, namespace: "default").items.compactMap(\.metadata?.name).sorted()
            }
            func complete(_ name: String) async throws {
                var backup = try await client.get(Backup.self, name: name, namespace: "default")
                backup.status = BackupStatus(phase: .completed, completionTimestamp: MetaV1.Time(clock.now))
                _ = try await client.updateStatus(backup)
            }
            let firstFire = try #require(try CronSchedule("0 3 * * *").next(after: clock.now))
            let dayOne = BackupSchedulePlan.name(cluster: "vectors", fireTime: firstFire)

            clock.set(firstFire.addingTimeInterval(-60))
            _ = try await schedule.reconcile(key)
            #expect(try await scheduled() == [])

            clock.set(firstFire)
            _ = try await schedule.reconcile(key)
            #expect(try await scheduled() == [dayOne])
            try await complete(dayOne)

            var names = [dayOne]
            for day in 1...3 {
                let fire = firstFire.addingTimeInterval(TimeInterval(day * 86_400))
                clock.set(fire.addingTimeInterval(60))
                _ = try await schedule.reconcile(key)
                names.append(BackupSchedulePlan.name(cluster: "vectors", fireTime: fire))
                // From day 2 on, the backup of two days before is past its retention, and goes.
                #expect(try await scheduled() == Array(names.suffix(day >= 2 ? 2 : names.count)))
                if day < 3 { try await complete(names.last!) }
            }
            // Days later with every backup since failing: the newest Completed one (day 2's) stays.
            for name in names.suffix(1) {
                var backup = try await client.get(Backup.self, name: name, namespace: "default")
                backup.status = BackupStatus(phase: .failed, completionTimestamp: MetaV1.Time(clock.now), failureReason: "test")
                _ = try await client.updateStatus(backup)
            }
            clock.set(firstFire.addingTimeInterval(10 * 86_400 + 60))
            _ = try await schedule.reconcile(key)
            let left = try await scheduled()
            #expect(left.contains(names[2]), "the newest Completed backup is kept: \(left)")
            #expect(!left.contains(names[1]) && !left.contains(names[3]), "\(left)")
        }
    }
}

/// A clock a test sets.
private final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ date: Date) { current = Mutex(date) }

    var now: Date { current.withLock { $0 } }

    func set(_ date: Date) { current.withLock { $0 = date } }
}
