/// Where a primary's timelines forked, from its timeline history file, and whether a standby is stranded past a
/// fork: a standby that replayed WAL of an older timeline beyond the point where the primary's timeline left it
/// (WAL the promoted standby never had) can never follow the primary; PostgreSQL waits at its position for ever.
public enum TimelineFork {
    /// The switch points in a `.history` file (`parentTLI<TAB>switchpoint<TAB>reason` a line), by parent timeline.
    public static func forks(history: String) -> [UInt32: WALPosition] {
        var forks: [UInt32: WALPosition] = [:]
        for line in history.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, let timeline = UInt32(fields[0]), let point = WALPosition(String(fields[1])) else { continue }
            forks[timeline] = point
        }
        return forks
    }

    /// The timeline in a WAL file name's first eight hex digits.
    public static func timeline(walFileName name: String) -> UInt32? {
        guard name.count >= 8 else { return nil }
        return UInt32(name.prefix(8), radix: 16)
    }

    /// The history file of `timeline`, as PostgreSQL names it under `pg_wal`.
    public static func historyFileName(_ timeline: UInt32) -> String {
        let hex = String(timeline, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(8 - hex.count, 0)) + hex + ".history"
    }

    /// A standby (not streaming) on another timeline than the primary's that replayed past the point where the
    /// primary's history left that timeline, or on a timeline the primary's history does not contain.
    public static func isStranded(
        standbyTimeline: UInt32?, replayed: WALPosition?, streaming: Bool, primaryTimeline: UInt32?, forks: [UInt32: WALPosition]
    ) -> Bool {
        guard !streaming, let standbyTimeline, let replayed, let primaryTimeline, standbyTimeline != primaryTimeline else { return false }
        guard standbyTimeline < primaryTimeline, let fork = forks[standbyTimeline] else { return true }
        return replayed > fork
    }
}
