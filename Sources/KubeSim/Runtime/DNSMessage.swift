/// The part of the DNS wire format (RFC 1035) cluster DNS needs: one question in, A records out.
struct DNSQuery: Sendable, Equatable {
    var id: UInt16
    var flags: UInt16
    var name: String
    var type: UInt16
    var questionBytes: [UInt8]

    static let typeA: UInt16 = 1

    /// Parses a query with one question; nil for anything else.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let questions = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard flags & 0x8000 == 0, questions == 1 else { return nil }
        var index = 12
        var labels: [String] = []
        while index < bytes.count {
            let length = Int(bytes[index])
            index += 1
            if length == 0 { break }
            guard length < 64, index + length <= bytes.count else { return nil }
            labels.append(String(decoding: bytes[index..<index + length], as: UTF8.self).lowercased())
            index += length
        }
        guard index + 4 <= bytes.count else { return nil }
        type = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
        questionBytes = Array(bytes[12..<index + 4])
        name = labels.joined(separator: ".")
    }

    /// The answer: the addresses as A records (none for other types: NODATA), or NXDOMAIN when the name is unknown.
    func response(addresses: [String]?, ttl: UInt32 = 5) -> [UInt8] {
        let answers = type == Self.typeA ? (addresses ?? []) : []
        // QR, the query's opcode and RD, AA; RA; RCODE 3 (NXDOMAIN) for an unknown name.
        let flags: UInt16 = 0x8000 | (self.flags & 0x7900) | 0x0400 | 0x0080 | (addresses == nil ? 3 : 0)
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1]
        bytes += [UInt8(answers.count >> 8), UInt8(answers.count & 0xFF), 0, 0, 0, 0]
        bytes += questionBytes
        for address in answers {
            let octets = address.split(separator: ".").compactMap { UInt8($0) }
            guard octets.count == 4 else { continue }
            // A pointer to the question's name (offset 12), type A, class IN, the TTL, four bytes of address.
            bytes += [0xC0, 12, 0, 1, 0, 1, UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF), 0, 4]
            bytes += octets
        }
        return bytes
    }
}
