import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import ObjectStorage
import OperatorKit
import PostgresBackup
import VectorBlocksAPI

/// Keeps each Cluster's backup schedule (`spec.backup`): makes the Backup due at each fire time, deletes the
/// scheduled Backups past their retention (their finalizer deletes the data; the newest Completed one is never
/// deleted), and looks again at the next fire time or expiry. Read from the API server, so a decision never rests
/// on a cache that has not seen the Backup made a moment ago; the clock is injected so tests move it. With
/// `pitrEnabled`, it also deletes the archived WAL no kept Backup needs (`WALPruning`).
public struct BackupScheduleReconciler: Reconciler {
    let client: KubeClient
    let events: EventRecorder
    let storage: BackupStorage
    let now: @Sendable () -> Date
    let logger: Logger
    /// How soon to try again when the archive could not be pruned.
    static let pruneRetryInterval: TimeInterval = 300

    /// When a scheduled Backup's fire time was, in RFC 3339: the schedule counts from it, not from when the object
    /// happened to be made.
    public static let scheduledAtAnnotation = "\(VectorBlocksAPI.group)/scheduled-at"

    public init(
        client: KubeClient, events: EventRecorder, now: @escaping @Sendable () -> Date = { Date() }, http: HTTPClient = .shared,
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) {
        self.client = client
        self.events = events
        self.storage = BackupStorage(client: client, http: http, environment: environment, logger: logger)
        self.now = now
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let namespace = key.namespace else { return .done }
        let cluster: Cluster
        do {
            cluster = try await client.get(Cluster.self, name: key.name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return .done
        }
        // A schedule that cannot be read is reported by the Cluster's validation, as every spec error is.
        guard cluster.metadata?.deletionTimestamp == nil, let backup = cluster.spec.backup, backup.enabled ?? true,
            let schedule = try? CronSchedule(backup.cronExpression), let retention = RetentionPeriod(backup.retentionPeriod ?? "7d")
        else { return .done }
        let now = now()
        let existing = try await client.list(Backup.self, namespace: namespace, options: ListOptions(labelSelector: "\(Backup.clusterLabel)=\(key.name)"))
            .items.filter { $0.spec.clusterName == key.name }
        let decision = BackupSchedulePlan.decide(
            cluster: key.name, schedule: schedule, retention: retention, existing: existing.compactMap(Self.existing),
            since: cluster.metadata?.creationTimestamp?.date ?? now, now: now)
        if let name = decision.create, let fireTime = decision.fireTime {
            try await create(name, fireTime: fireTime, for: cluster, backup: backup)
        }
        for name in decision.delete {
            do {
                try await client.delete(Backup.self, name: name, namespace: namespace)
                await events.record(cluster, type: .normal, reason: "BackupExpired", message: "Backup \(name) is past the retention period \(retention.text)")
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            }
        }
        var next = decision.next
        if backup.pitrEnabled == true, backup.method == .pgBasebackup {
            let pruned = try await pruneWAL(of: cluster, repository: backup.repository, deleting: Set(decision.delete))
            if !pruned { next = min(next ?? .distantFuture, now.addingTimeInterval(Self.pruneRetryInterval)) }
        }
        guard let next else { return .done }
        return .requeue(after: .seconds(max(1, Int64(next.timeIntervalSince(now).rounded(.up)))))
    }

    /// Deletes the archived WAL before the oldest kept Backup's start, on every pass rather than only when retention
    /// deletes a Backup, so a pass cut short is made good by the next; listing stops at that start, so a pass with
    /// nothing to delete costs one request. False when the archive could not be reached (a Warning Event says why).
    private func pruneWAL(of cluster: Cluster, repository: BackupRepository, deleting: Set<String>) async throws -> Bool {
        guard let name = cluster.metadata?.name, let namespace = cluster.metadata?.namespace else { return true }
        // Every Backup of the Cluster counts, also those made without the Cluster's label.
        let backups = try await client.list(Backup.self, namespace: namespace).items.filter { $0.spec.clusterName == name }
        guard let boundary = WALPruning.boundary(backups: backups, deleting: deleting) else { return true }
        let s3: S3Client
        switch try await storage.s3(repository, namespace: namespace, field: "spec.backup.repository") {
        case .failure(let wait):
            await events.record(cluster, type: .warning, reason: "WALPruneWaiting", message: "archived WAL is not pruned: \(wait.description)")
            return false
        case .success(let made): s3 = made
        }
        let archive = WALArchive(storage: s3, prefix: WALArchiving.prefix(repository: repository, namespace: namespace, cluster: name), logger: logger)
        do {
            let pruned = try await archive.prune(before: boundary.firstNeeded)
            if !pruned.isEmpty {
                await events.record(
                    cluster, type: .normal, reason: "WALPruned",
                    message:
                        "deleted \(pruned.count) archived WAL file(s) before \(boundary.firstNeeded), where the oldest kept Backup \(boundary.backup) starts")
            }
            return true
        } catch {
            await events.record(cluster, type: .warning, reason: "WALPruneFailed", message: "archived WAL is not pruned: \(error)")
            return false
        }
    }

    private func create(_ name: String, fireTime: Date, for cluster: Cluster, backup: ClusterBackup) async throws {
        var annotations = [Self.scheduledAtAnnotation: MetaV1.Time(fireTime).rfc3339]
        annotations[BackupClusterSnapshot.annotation] = try? BackupClusterSnapshot.encoded(cluster)
        let made = Backup(
            metadata: MetaV1.ObjectMeta(
                annotations: annotations,
                labels: [Backup.clusterLabel: cluster.metadata?.name ?? "", Backup.scheduledLabel: "true"],
                name: name, namespace: cluster.metadata?.namespace),
            spec: BackupSpec(clusterName: cluster.metadata?.name ?? "", backupMethod: backup.method, repository: backup.repository))
        do {
            _ = try await client.create(made)
            await events.record(cluster, type: .normal, reason: "BackupScheduled", message: "Backup \(name) made for the schedule \"\(backup.cronExpression)\"")
        } catch let error as KubeAPIError where error.isAlreadyExists {
            return
        }
    }

    static func existing(_ backup: Backup) -> BackupSchedulePlan.Existing? {
        guard let name = backup.metadata?.name else { return nil }
        let scheduledAt = backup.metadata?.annotations?[scheduledAtAnnotation].flatMap { MetaV1.Time(rfc3339: $0)?.date }
        return BackupSchedulePlan.Existing(
            name: name, phase: backup.status?.phase, created: scheduledAt ?? backup.metadata?.creationTimestamp?.date ?? .distantPast,
            completed: backup.status?.completionTimestamp?.date, scheduled: backup.metadata?.labels?[Backup.scheduledLabel] == "true")
    }
}
