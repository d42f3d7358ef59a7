import Foundation

/// What a PostgreSQL base backup in the repository holds (`manifest.json`, written after its data, so a backup
/// without one is incomplete): the WAL range a restore replays to be consistent, the timeline, where the base
/// archive is, its size and SHA-256, and where that cluster archives its WAL for point-in-time recovery.
public struct BaseBackupManifest: Codable, Sendable, Hashable {
    public static let objectName = "manifest.json"
    public static let baseObjectName = "base.tar"
    public static let currentFormat = 1

    public var format: Int
    public var method: String
    /// The WAL position the backup starts at (its checkpoint's redo point) and the one it is consistent at.
    public var startLSN: String
    public var endLSN: String
    public var timeline: UInt32
    public var startWAL: String
    public var endWAL: String
    public var startTime: Date
    public var endTime: Date
    /// The server it was copied from (`host:port`), and whether it was a standby (CloudNativePG's preference).
    public var source: String
    public var fromStandby: Bool
    /// The tar of the data directory, its own WAL inside (pg_basebackup `--wal-method=fetch`).
    public var baseObject: String
    public var size: Int64
    public var sha256: String
    /// The key prefix of the cluster's WAL archive, ending in `/`; none when it does not archive continuously.
    public var walArchivePrefix: String?

    public init(
        method: String = "pg-basebackup", startLSN: WALPosition, endLSN: WALPosition, timeline: UInt32, startTime: Date, endTime: Date, source: String,
        fromStandby: Bool, size: Int64, sha256: String, walArchivePrefix: String?
    ) {
        self.format = Self.currentFormat
        self.method = method
        self.startLSN = startLSN.description
        self.endLSN = endLSN.description
        self.timeline = timeline
        self.startWAL = startLSN.segmentName(timeline: timeline)
        self.endWAL = endLSN.segmentName(timeline: timeline)
        self.startTime = startTime
        self.endTime = endTime
        self.source = source
        self.fromStandby = fromStandby
        self.baseObject = Self.baseObjectName
        self.size = size
        self.sha256 = sha256
        self.walArchivePrefix = walArchivePrefix
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.timestamp(date))
        }
        return Array(try encoder.encode(self))
    }

    public static func decoded(_ bytes: [UInt8]) throws -> BaseBackupManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
            }
            return date
        }
        return try decoder.decode(BaseBackupManifest.self, from: Data(bytes))
    }

    /// RFC 3339 with microseconds, UTC, as PostgreSQL keeps time.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let micros = Int(totalMicros % 1_000_000)
        let base = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(totalMicros / 1_000_000)))
        // ISO8601DateFormatter gives milliseconds; PostgreSQL's timestamps have microseconds.
        let stem = base.prefix(while: { $0 != "." })
        let digits = String(micros)
        return String(stem) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    public static func parseTimestamp(_ text: String) -> Date? {
        let parts = text.split(separator: ".", maxSplits: 1)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard parts.count == 2 else { return formatter.date(from: text) }
        let fraction = parts[1].prefix(while: \.isNumber)
        let zone = parts[1].dropFirst(fraction.count)
        guard let whole = formatter.date(from: String(parts[0]) + zone), let micros = Double("0." + fraction) else { return nil }
        return whole.addingTimeInterval(micros)
    }
}
