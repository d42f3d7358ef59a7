/// Protocol buffers' wire format: varints, fixed-width numbers and length-delimited fields.
enum ProtobufWire {
    enum WireType: Int {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    struct DecodingError: Error, CustomStringConvertible {
        var description: String
    }

    struct Reader {
        private let bytes: [UInt8]
        private var offset: Int
        private let end: Int

        init(_ bytes: [UInt8]) { self.init(bytes, range: 0..<bytes.count) }

        init(_ bytes: [UInt8], range: Range<Int>) {
            self.bytes = bytes
            offset = range.lowerBound
            end = range.upperBound
        }

        var isAtEnd: Bool { offset >= end }

        mutating func varint() throws(DecodingError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while offset < end, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            throw DecodingError(description: "a varint runs past the end of the message")
        }

        mutating func fixed(_ width: Int) throws(DecodingError) -> UInt64 {
            guard end - offset >= width else { throw DecodingError(description: "a fixed-width number runs past the end") }
            var result: UInt64 = 0
            for index in 0..<width { result |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            offset += width
            return result
        }

        /// A length-delimited field's bytes as a sub-range, for reading a nested message in place.
        mutating func delimited() throws(DecodingError) -> Reader {
            let length = try varint()
            guard length <= UInt64(end - offset) else { throw DecodingError(description: "a field of \(length) bytes runs past the end") }
            let start = offset
            offset += Int(length)
            return Reader(bytes, range: start..<offset)
        }

        var remainingBytes: [UInt8] { Array(bytes[offset..<end]) }

        mutating func skip(_ wireType: Int) throws(DecodingError) {
            switch WireType(rawValue: wireType) {
            case .varint: _ = try varint()
            case .fixed64: _ = try fixed(8)
            case .fixed32: _ = try fixed(4)
            case .lengthDelimited: _ = try delimited()
            case nil: throw DecodingError(description: "wire type \(wireType) is not one protobuf 2 uses")
            }
        }
    }

    struct Writer {
        private(set) var bytes: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func tag(_ number: Int, _ wireType: WireType) { varint(UInt64(number) << 3 | UInt64(wireType.rawValue)) }

        mutating func fixed(_ value: UInt64, width: Int) {
            for index in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
        }

        mutating func delimited(_ number: Int, _ content: [UInt8]) {
            tag(number, .lengthDelimited)
            varint(UInt64(content.count))
            bytes.append(contentsOf: content)
        }
    }
}
