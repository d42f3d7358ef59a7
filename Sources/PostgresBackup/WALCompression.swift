/// How wal-push stores a WAL file: gzip (the default; `<name>.gz`) or as it is (`<name>`). wal-fetch reads either,
/// so an archive written before compression, or with it off, still restores.
public enum WALCompression: String, Sendable, CaseIterable {
    case gzip
    case none

    public static let gzipSuffix = ".gz"

    /// The object name a file is stored under.
    public func objectName(_ name: String) -> String {
        switch self {
        case .gzip: name + Self.gzipSuffix
        case .none: name
        }
    }

    /// The bytes stored for a file's content.
    func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .gzip: try Gzip.compress(bytes)
        case .none: bytes
        }
    }

    /// The compression an object name says (its suffix), and the file's own name.
    static func of(objectName: String) -> (compression: WALCompression, name: String) {
        objectName.hasSuffix(gzipSuffix) ? (.gzip, String(objectName.dropLast(gzipSuffix.count))) : (.none, objectName)
    }

    /// The largest file wal-fetch accepts after decompression: a WAL segment is at most 1 GiB (--with-wal-segsize).
    static let largestFile = 1 << 30

    func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .gzip: try Gzip.decompress(bytes, limit: Self.largestFile)
        case .none: bytes
        }
    }
}
