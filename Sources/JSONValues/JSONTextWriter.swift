import Foundation

/// Writes a `JSONValue` straight to UTF-8 bytes, the bytes `JSONEncoder` writes with `.withoutEscapingSlashes` (and
/// `.sortedKeys` when asked), without its Codable path, which costs several times as much. KubeSim's responses and
/// watch events, the JSON bodies the operator sends and its applied-state hashes go through here.
enum JSONTextWriter {
    static func write(_ value: JSONValue, into bytes: inout [UInt8], sortedKeys: Bool) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): bytes.append(contentsOf: String(number).utf8)
        case .double(let number): bytes.append(contentsOf: format(number).utf8)
        case .string(let text): writeString(text, into: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item, into: &bytes, sortedKeys: sortedKeys)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            func member(_ key: String, _ member: JSONValue) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                write(member, into: &bytes, sortedKeys: sortedKeys)
            }
            if sortedKeys {
                for key in members.keys.sorted() { member(key, members[key] ?? .null) }
            } else {
                for (key, value) in members { member(key, value) }
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Copies runs of bytes that need no escape in one append, scanning with raw pointers and literal bytes: a
    /// switch over `String.UTF8View` with `UInt8(ascii:)` per case made this, unoptimised, the test suite's busiest
    /// function of the project's own.
    static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(0x22)
        var text = text
        text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            var written = 0
            var index = 0
            while index < utf8.count {
                let byte = base[index]
                if byte < 0x20 || byte == 0x22 || byte == 0x5C {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: base + written, count: index - written))
                    appendEscaped(byte, into: &bytes)
                    written = index + 1
                }
                index += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + written, count: utf8.count - written))
        }
        bytes.append(0x22)
    }

    private static func appendEscaped(_ byte: UInt8, into bytes: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        default:
            bytes.append(contentsOf: [
                UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
            ])
        }
    }

    /// Integral values print without a fraction, as Go and JSONEncoder print them; JSON has no NaN or infinity, so
    /// those print as null.
    private static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}

extension JSONValue {
    /// The value as JSON text: UTF-8 as is, slashes unescaped, keys sorted when asked (for content hashes).
    public func jsonData(sortedKeys: Bool = true) -> Data {
        Data(jsonBytes(sortedKeys: sortedKeys))
    }

    public func jsonBytes(sortedKeys: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        writeJSON(into: &bytes, sortedKeys: sortedKeys)
        return bytes
    }

    /// Appends the value's JSON text to `bytes`.
    public func writeJSON(into bytes: inout [UInt8], sortedKeys: Bool) {
        JSONTextWriter.write(self, into: &bytes, sortedKeys: sortedKeys)
    }
}
