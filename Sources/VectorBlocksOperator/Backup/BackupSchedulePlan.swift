import Foundation
import VectorBlocksAPI

/// What a Cluster's backup schedule (`spec.backup`) asks for at a moment: the Backup due now, if any, and the
/// scheduled Backups whose retention has passed. Pure, so a test moves the clock instead of waiting.
public enum BackupSchedulePlan {
    public struct Existing: Sendable, Hashable {
        public var name: String
        public var phase: BackupPhase?
        public var created: Date
        public var completed: Date?
        public var scheduled: Bool

        public init(name: String, phase: BackupPhase?, created: Date, completed: Date? = nil, scheduled: Bool) {
            self.name = name
            self.phase = phase
            self.created = created
            self.completed = completed
            self.scheduled = scheduled
        }
    }

    public struct Decision: Sendable, Equatable {
        /// The name of the scheduled Backup to make now (named after its fire time, so making it twice is harmless).
        public var create: String?
        /// The fire time it is for.
        public var fireTime: Date?
        /// Scheduled Backups past their retention, oldest first.
        public var delete: [String]
        /// When to look again: the next fire time or the next expiry, whichever comes first.
        public var next: Date?
    }

    /// `since`: when the schedule began (the Cluster's creation); missed fire times make one Backup, not many.
    public static func decide(
        cluster: String, schedule: CronSchedule, retention: RetentionPeriod, existing: [Existing], since: Date, now: Date
    ) -> Decision {
        let lastScheduled = existing.filter(\.scheduled).map(\.created).max()
        var create: String?
        var fireTime: Date?
        var fire = schedule.next(after: max(lastScheduled ?? since, since))
        if let due = fire, due <= now {
            // The latest fire time that has passed, as a CronJob that missed several starts only the last.
            var latest = due
            while let following = schedule.next(after: latest), following <= now { latest = following }
            create = name(cluster: cluster, fireTime: latest)
            fireTime = latest
            fire = schedule.next(after: latest)
        }
        let keep = newestCompleted(existing)
        let retentionSeconds = TimeInterval(retention.seconds)
        let expired = existing.filter { backup in
            backup.scheduled && backup.name != keep && backup.phase != .running && backup.phase != .deleting
                && (backup.completed ?? backup.created).addingTimeInterval(retentionSeconds) <= now
        }
        .sorted { $0.created < $1.created }
        let nextExpiry = existing.filter { $0.scheduled && $0.name != keep }
            .map { ($0.completed ?? $0.created).addingTimeInterval(retentionSeconds) }.filter { $0 > now }.min()
        let next = [fire, nextExpiry].compactMap { $0 }.min()
        return Decision(create: create, fireTime: fireTime, delete: expired.map(\.name), next: next)
    }

    /// The newest Completed Backup, which retention never deletes: a Cluster whose later backups failed still has
    /// one to restore from.
    static func newestCompleted(_ existing: [Existing]) -> String? {
        existing.filter { $0.phase == .completed }.max { ($0.completed ?? $0.created) < ($1.completed ?? $1.created) }?.name
    }

    static func name(cluster: String, fireTime: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmm"
        return "\(cluster)-\(formatter.string(from: fireTime))"
    }
}
