/// What pg_basebackup `--verbose` reports on standard error about the WAL range of the backup it took.
struct BaseBackupOutput: Sendable, Equatable {
    var start: WALPosition
    var timeline: UInt32
    var end: WALPosition

    /// Reads `write-ahead log start point: 0/2000028 on timeline 1` and `write-ahead log end point: 0/2000100`.
    init?(standardError: String) {
        var start: WALPosition?
        var timeline: UInt32?
        var end: WALPosition?
        for line in standardError.split(separator: "\n") {
            if let range = line.range(of: "write-ahead log start point: ") {
                let words = line[range.upperBound...].split(separator: " ")
                start = words.first.flatMap { WALPosition($0) }
                if words.count >= 4, words[1] == "on", words[2] == "timeline" { timeline = UInt32(words[3]) }
            } else if let range = line.range(of: "write-ahead log end point: ") {
                end = line[range.upperBound...].split(separator: " ").first.flatMap { WALPosition($0) }
            }
        }
        guard let start, let timeline, let end else { return nil }
        self.start = start
        self.timeline = timeline
        self.end = end
    }
}
