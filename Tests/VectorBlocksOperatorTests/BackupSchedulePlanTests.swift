import Foundation
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The backup schedule against a clock the test moves: Backups on time, one for several missed fire times, and
/// retention that deletes the old scheduled ones but never the newest Completed one.
@Suite("Backup schedule and retention")
struct BackupSchedulePlanTests {
    static let daily = try! CronSchedule("0 3 * * *")
    static let start = ISO8601DateFormatter().date(from: "2026-01-01T00:00:00Z")!

    static func at(_ days: Double, _ hours: Double, _ minutes: Double = 0) -> Date {
        start.addingTimeInterval(days * 86_400 + hours * 3_600 + minutes * 60)
    }

    func decide(_ existing: [BackupSchedulePlan.Existing], now: Date, retention: String = "2d") -> BackupSchedulePlan.Decision {
        BackupSchedulePlan.decide(
            cluster: "vectors", schedule: Self.daily, retention: RetentionPeriod(retention)!, existing: existing, since: Self.start, now: now)
    }

    static func completed(_ day: Double) -> BackupSchedulePlan.Existing {
        .init(
            name: BackupSchedulePlan.name(cluster: "vectors", fireTime: at(day, 3)), phase: .completed, created: at(day, 3), completed: at(day, 3, 5),
            scheduled: true)
    }

    @Test func backupsAreMadeWhenTheScheduleFiresAndNotBefore() {
        var clock = Self.at(0, 2, 59)
        #expect(decide([], now: clock) == .init(create: nil, fireTime: nil, delete: [], next: Self.at(0, 3)))
        clock = Self.at(0, 3)
        #expect(decide([], now: clock).create == "vectors-202601010300")
        let made = BackupSchedulePlan.Existing(name: "vectors-202601010300", phase: .running, created: Self.at(0, 3), scheduled: true)
        clock = Self.at(0, 3, 30)
        #expect(decide([made], now: clock) == .init(create: nil, fireTime: nil, delete: [], next: Self.at(1, 3)))
    }

    @Test func severalMissedFireTimesMakeOneBackupForTheLatest() {
        let decision = decide([Self.completed(0)], now: Self.at(3, 5))
        #expect(decision.create == "vectors-202601040300")
        #expect(decision.next == Self.at(4, 3))
    }

    @Test func retentionDeletesScheduledBackupsPastTheirPeriodOnly() {
        let manual = BackupSchedulePlan.Existing(name: "by-hand", phase: .completed, created: Self.at(0, 1), completed: Self.at(0, 1), scheduled: false)
        let decision = decide([Self.completed(0), Self.completed(1), Self.completed(2), manual], now: Self.at(3, 3))
        #expect(decision.delete == ["vectors-202601010300"])
        #expect(decision.create == "vectors-202601040300")
        // The next expiry (the second backup's, at day 3 03:05) comes before the next fire time.
        #expect(decision.next == Self.at(3, 3, 5))
    }

    @Test func theNewestCompletedBackupIsKeptHoweverOld() {
        var existing = [Self.completed(0)]
        for day in 1...5 {
            existing.append(
                .init(
                    name: BackupSchedulePlan.name(cluster: "vectors", fireTime: Self.at(Double(day), 3)), phase: .failed, created: Self.at(Double(day), 3),
                    completed: Self.at(Double(day), 3, 1), scheduled: true))
        }
        let decision = decide(existing, now: Self.at(10, 4))
        #expect(!decision.delete.contains("vectors-202601010300"))
        #expect(decision.delete == (1...5).map { BackupSchedulePlan.name(cluster: "vectors", fireTime: Self.at(Double($0), 3)) })
    }

    @Test func cronExpressionsAndRetentionPeriodsParseAsKubernetesWritesThem() throws {
        let weekdays = try CronSchedule("*/15 9-17 * * 1-5")
        // 2026-01-03 is a Saturday: the next weekday slot is Monday 09:00.
        #expect(weekdays.next(after: ISO8601DateFormatter().date(from: "2026-01-02T17:50:00Z")!) == ISO8601DateFormatter().date(from: "2026-01-05T09:00:00Z"))
        #expect(throws: CronSchedule.Invalid.self) { try CronSchedule("0 3 * *") }
        #expect(throws: CronSchedule.Invalid.self) { try CronSchedule("61 3 * * *") }
        #expect(RetentionPeriod("1d12h")?.seconds == 129_600)
        #expect(RetentionPeriod("7x") == nil && RetentionPeriod("") == nil && RetentionPeriod("d") == nil)
    }
}
