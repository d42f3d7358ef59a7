/// A file of a WAL archive, by the names PostgreSQL gives what it archives: a segment
/// (`000000010000000000000002`: timeline, log and segment, in hexadecimal), the last segment of a timeline that a
/// promotion ended (`….partial`), a timeline's history (`00000002.history`) and a backup's history
/// (`000000010000000000000002.00000028.backup`); each may be stored gzip-compressed, its object name ending in `.gz`,
/// which is read as the name it holds.
public enum WALFileName: Sendable, Hashable {
    case segment(String)
    case partialSegment(String)
    case timelineHistory(String)
    case backupHistory(String)

    public init?(_ objectName: String) {
        let name = WALCompression.of(objectName: objectName).name
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where Self.isHex(parts[0], count: 24): self = .segment(name)
        case 2 where Self.isHex(parts[0], count: 24) && parts[1] == "partial": self = .partialSegment(name)
        case 2 where Self.isHex(parts[0], count: 8) && parts[1] == "history": self = .timelineHistory(name)
        case 3 where Self.isHex(parts[0], count: 24) && Self.isHex(parts[1], count: 8) && parts[2] == "backup": self = .backupHistory(name)
        default: return nil
        }
    }

    /// The 24-character segment name a segment or a partial segment holds.
    public var segmentName: String? {
        switch self {
        case .segment(let name): name
        case .partialSegment(let name): String(name.prefix(24))
        case .timelineHistory, .backupHistory: nil
        }
    }

    /// Whether `text` is `count` upper-case hexadecimal digits, as PostgreSQL writes its file names.
    static func isHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (48...57).contains($0) || (65...70).contains($0) }
    }
}
