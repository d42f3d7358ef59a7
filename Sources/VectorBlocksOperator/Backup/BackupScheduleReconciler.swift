import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Keeps each Cluster's backup schedule (`spec.backup`): makes the Backup due at each fire time, deletes the
/// scheduled Backups past their retention (their finalizer deletes the data; the newest Completed one is never
/// deleted), and looks again at the next fire time or expiry. Read from the API server, so a decision never rests
/// on a cache that has not seen the Backup made a moment ago; the clock is injected so tests move it.
public struct BackupScheduleReconciler: Reconciler {
    let client: KubeClient
    let events: EventRecorder
    let now: @Sendable () -> Date
    let logger: Logger

    /// When a scheduled Backup's fire time was, in RFC 3339: the schedule counts from it, not from when the object
    /// happened to be made.
    public static let scheduledAtAnnotation = "\(VectorBlocksAPI.group)/scheduled-at"

    public init(client: KubeClient, events: EventRecorder, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.events = events
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
        guard let next = decision.next else { return .done }
        return .requeue(after: .seconds(max(1, Int64(next.timeIntervalSince(now).rounded(.up)))))
    }

    private func create(_ name: String, fireTime: Date, for cluster: Cluster, backup: ClusterBackup) async throws {
        let made = Backup(
            metadata: MetaV1.ObjectMeta(
                annotations: [Self.scheduledAtAnnotation: MetaV1.Time(fireTime).rfc3339],
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
