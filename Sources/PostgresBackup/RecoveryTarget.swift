import Foundation

/// How far a restore replays: to the end of the base backup (the state it copied), or on through the WAL archive
/// to a moment (PostgreSQL's `recovery_target_time`), then it is promoted.
public enum RecoveryTarget: Sendable, Hashable {
    case backupEnd
    case time(Date)

    /// The settings that go in postgresql.auto.conf for this target, with `restoreCommand` fetching from the archive.
    func settings(restoreCommand: String?) -> [String] {
        switch self {
        case .backupEnd:
            return []
        case .time(let date):
            var lines = [
                "recovery_target_time = '\(Self.postgresTime(date))'",
                "recovery_target_action = 'promote'",
                "recovery_target_inclusive = off",
                "recovery_target_timeline = 'current'",
            ]
            if let restoreCommand { lines.insert("restore_command = '\(restoreCommand.replacingOccurrences(of: "'", with: "''"))'", at: 0) }
            return lines
        }
    }

    /// `2026-12-03 19:00:00.123456+00`, as PostgreSQL reads a timestamptz.
    static func postgresTime(_ date: Date) -> String {
        let stamp = BaseBackupManifest.timestamp(date)
        return stamp.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "+00")
    }
}
