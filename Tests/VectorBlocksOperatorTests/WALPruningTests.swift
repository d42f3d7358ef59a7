import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import ObjectStorage
import OperatorKit
import Synchronization
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Retention and the WAL archive of a Cluster with `spec.backup.pitrEnabled`: once old Backups go, the archived WAL
/// before the oldest kept Backup's start goes too, and nothing a kept Backup or a restore from it needs.
@Suite("WAL pruning")
struct WALPruningTests {
    static func backup(_ name: String, phase: BackupPhase?, startWAL: String?, method: BackupMethod = .pgBasebackup) -> Backup {
        Backup(
            metadata: .init(name: name, namespace: "default"), spec: BackupSpec(clusterName: "embeddings", backupMethod: method),
            status: BackupStatus(
                phase: phase,
                wal: startWAL.map { BackupWALRange(startLSN: "0/0", endLSN: "0/0", timeline: 1, startWAL: $0, endWAL: $0) }))
    }

    @Test("the boundary is the oldest kept Completed Backup's start, by timeline then segment; none when unsure")
    func boundary() {
        let backups = [
            Self.backup("monday", phase: .completed, startWAL: "000000010000000000000040"),
            Self.backup("tuesday", phase: .completed, startWAL: "000000020000000000000030"),
            Self.backup("wednesday", phase: .completed, startWAL: "000000020000000000000052"),
            Self.backup("thursday", phase: .failed, startWAL: nil),
            Self.backup("friday", phase: .running, startWAL: nil),
        ]
        #expect(WALPruning.boundary(backups: backups, deleting: []) == .init(firstNeeded: "000000010000000000000040", backup: "monday"))
        // Timeline 2 began after monday's start: tuesday, though at an earlier position, is the later backup.
        #expect(WALPruning.boundary(backups: backups, deleting: ["monday"]) == .init(firstNeeded: "000000020000000000000030", backup: "tuesday"))
        #expect(WALPruning.boundary(backups: backups, deleting: ["monday", "tuesday", "wednesday"]) == nil, "no Completed backup kept")
        var going = Self.backup("tuesday", phase: .completed, startWAL: "000000020000000000000030")
        going.metadata?.deletionTimestamp = .now()
        #expect(WALPruning.boundary(backups: [going, backups[2]], deleting: [])?.backup == "wednesday", "a Backup being deleted is not kept")
        #expect(WALPruning.boundary(backups: backups + [Self.backup("old-format", phase: .completed, startWAL: nil)], deleting: []) == nil)
        #expect(WALPruning.boundary(backups: [Self.backup("qdrant", phase: .completed, startWAL: nil, method: .qdrantSnapshot)], deleting: []) == nil)
    }

    /// The schedule reconciler with a clock the test moves, moto's S3 holding an archive of two timelines, and the
    /// Backups completed as the Job would complete them.
    @Test("retention deletes old Backups and the archived WAL before the oldest kept one; histories stay")
    func retentionPrunesTheArchive() async throws {
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
        let repository = BackupRepository(bucket: "pitr-backups", prefix: "vb", region: "eu-west-1", endpoint: moto.endpoint, credentialsSecretName: "s3-keys")
        let s3 = S3Client(
            bucket: "pitr-backups", region: "eu-west-1", endpoint: moto.endpoint, credentials: credentials, http: http, logger: Logger(label: "test"))
        let archivePrefix = "vb/default/embeddings/wal_archive/"
        do {
            try await s3.createBucket()
            try await withKubeSim { _, client in
                try await installVectorBlocksCRDs(client)
                _ = try await client.create(
                    CoreV1.Secret(
                        metadata: .init(name: "s3-keys", namespace: "default"),
                        stringData: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]))
                var cluster = try exampleCluster("pgvector-cluster.yaml")
                cluster.spec.backup = ClusterBackup(
                    method: .pgBasebackup, cronExpression: "0 3 * * *", retentionPeriod: "2d", repository: repository, pitrEnabled: true)
                _ = try await client.create(cluster)

                // Timeline 1 up to segment 0x25, then a failover onto timeline 2 (its history, timeline 1's last
                // segment as .partial), and a backup history file of each day's backup.
                let timelineOne = (0x12...0x24).map { Self.segment(timeline: 1, $0) }
                let timelineTwo = (0x25...0x40).map { Self.segment(timeline: 2, $0) }
                var names = timelineOne + ["000000010000000000000025.partial", "00000002.history"] + timelineTwo
                names += ["000000010000000000000012.00000028.backup", "000000020000000000000030.00000060.backup"]
                names.sort()
                for name in names { try await s3.putObject(archivePrefix + name, bytes: Array(name.utf8)) }

                let clock = PruningClock(Date())
                let events = EventRecorder(client: client, component: "vectorblocks-operator")
                let schedule = BackupScheduleReconciler(
                    client: client, events: events, now: { clock.now }, http: http, environment: [:], logger: Logger(label: "test"))
                let key = ObjectKey(namespace: "default", name: "embeddings")
                func archived() async throws -> [String] {
                    try await s3.listObjects(prefix: archivePrefix).map { String($0.key.dropFirst(archivePrefix.count)) }
                }
                func complete(_ name: String, startWAL: String) async throws {
                    var backup = try await client.get(Backup.self, name: name, namespace: "default")
                    backup.status = BackupStatus(
                        phase: .completed, completionTimestamp: MetaV1.Time(clock.now),
                        wal: BackupWALRange(startLSN: "0/0", endLSN: "0/0", timeline: Int32(startWAL.prefix(8))!, startWAL: startWAL, endWAL: startWAL))
                    _ = try await client.updateStatus(backup)
                }
                let firstFire = try #require(try CronSchedule("0 3 * * *").next(after: clock.now))
                var made: [String] = []
                func day(_ number: Int) async throws {
                    let fire = firstFire.addingTimeInterval(TimeInterval(number * 86_400))
                    clock.set(fire.addingTimeInterval(60))
                    _ = try await schedule.reconcile(key)
                    made.append(BackupSchedulePlan.name(cluster: "embeddings", fireTime: fire))
                }
                for (number, start) in ["000000010000000000000012", "000000020000000000000030"].enumerated() {
                    try await day(number)
                    #expect(try await archived() == names, "nothing is pruned while every Backup is kept")
                    try await complete(made[number], startWAL: start)
                }
                let snapshot = try await client.get(Backup.self, name: made[0], namespace: "default")
                let stored = try await client.get(Cluster.self, name: "embeddings", namespace: "default")
                #expect(BackupClusterSnapshot.spec(of: snapshot)?.componentSpecs == stored.spec.componentSpecs, "a scheduled Backup records its Cluster")

                // Day 3: day 1's backup is past its two days and goes, with the WAL only it needed.
                try await day(2)
                #expect(try await client.list(Backup.self, namespace: "default").items.compactMap(\.metadata?.name).contains(made[0]) == false)
                let left = try await archived()
                let pruned = Set(timelineOne + ["000000010000000000000025.partial"] + timelineTwo.filter { $0 < "000000020000000000000030" })
                #expect(left == names.filter { !pruned.contains($0) }, "\(left)")
                #expect(left.contains("00000002.history") && left.contains("000000010000000000000012.00000028.backup"))
                #expect(left.first { $0.hasPrefix("00000002") && $0.count == 24 } == "000000020000000000000030", "\(left)")
                let recorded = try await client.list(CoreV1.Event.self, namespace: "default").items
                #expect(
                    recorded.contains { $0.reason == "WALPruned" && $0.message?.contains("where the oldest kept Backup \(made[1]) starts") == true },
                    "\(recorded.map { "\($0.reason ?? ""): \($0.message ?? "")" })")
                // Day 3's backup completes later, at a later start: another pass finds nothing more to delete.
                try await complete(made[2], startWAL: "000000020000000000000038")
                _ = try await schedule.reconcile(key)
                #expect(try await archived() == left)
            }
        } catch {
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        try await http.shutdown()
        moto.stop()
    }
}

extension WALPruningTests {
    /// A segment's file name: timeline, then the segment number as log and segment of 16 MiB.
    static func segment(timeline: Int, _ number: Int) -> String {
        [timeline, number >> 8, number & 0xFF].map { value in
            let digits = String(value, radix: 16, uppercase: true)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }.joined()
    }
}

/// A clock a test sets.
private final class PruningClock: Sendable {
    private let current: Mutex<Date>

    init(_ date: Date) { current = Mutex(date) }

    var now: Date { current.withLock { $0 } }

    func set(_ date: Date) { current.withLock { $0 = date } }
}
