/// A position in PostgreSQL's write-ahead log (an LSN, written `X/Y` in hexadecimal) and the segment files around
/// it, for the default 16 MiB segments.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64
    public static let segmentSize: UInt64 = 16 << 20

    public init(_ value: UInt64) { self.value = value }

    /// Parses `0/2000028`.
    public init?(_ text: some StringProtocol) {
        let halves = text.split(separator: "/")
        guard halves.count == 2, let high = UInt32(halves[0], radix: 16), let low = UInt32(halves[1], radix: 16) else { return nil }
        value = UInt64(high) << 32 | UInt64(low)
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// The name of the WAL segment file holding this position on `timeline` (`000000010000000000000002`).
    public func segmentName(timeline: UInt32) -> String {
        let segment = value / Self.segmentSize
        let segmentsPerLog = 0x1_0000_0000 / Self.segmentSize
        return hex8(UInt64(timeline)) + hex8(segment / segmentsPerLog) + hex8(segment % segmentsPerLog)
    }

    public static func < (left: WALPosition, right: WALPosition) -> Bool { left.value < right.value }

    private func hex8(_ number: UInt64) -> String {
        let digits = String(number, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
