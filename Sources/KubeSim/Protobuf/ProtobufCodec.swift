import Foundation
import KubeKit

/// Converts between a Kubernetes object's protobuf form and its JSON form, by the upstream message definitions:
/// what a real API server's protobuf serializer does for built-in kinds.
struct ProtobufCodec: Sendable {
    typealias DecodingError = ProtobufWire.DecodingError
    let schema: ProtobufSchema

    static let shared = ProtobufCodec(schema: .shared)

    private enum WellKnown {
        static let time = "k8s.io.apimachinery.pkg.apis.meta.v1.Time"
        static let microTime = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"
        static let duration = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration"
        static let fieldsV1 = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"
        static let quantity = "k8s.io.apimachinery.pkg.api.resource.Quantity"
        static let intOrString = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
        static let rawExtension = "k8s.io.apimachinery.pkg.runtime.RawExtension"
    }

    // MARK: protobuf to JSON

    func decode(_ bytes: [UInt8], as message: String) throws(DecodingError) -> JSONValue {
        var reader = ProtobufWire.Reader(bytes)
        return try decode(&reader, as: message)
    }

    private func decode(_ reader: inout ProtobufWire.Reader, as name: String) throws(DecodingError) -> JSONValue {
        if let special = try decodeWellKnown(&reader, as: name) { return special }
        guard let message = schema.messages[name] else { throw DecodingError(description: "no message \(name) in the schema") }
        var object: [String: JSONValue] = [:]
        while !reader.isAtEnd {
            let tag = try reader.varint()
            let number = Int(tag >> 3)
            let wireType = Int(tag & 7)
            guard let field = message.field(number: number) else {
                try reader.skip(wireType)
                continue
            }
            switch field.label {
            case .map:
                var entry = try reader.delimited()
                let (key, value) = try decodeMapEntry(&entry, field)
                var members = object[field.name]?.objectValue ?? [:]
                members[key] = value
                object[field.name] = .object(members)
            case .repeated:
                var elements = object[field.name]?.arrayValue ?? []
                if wireType == ProtobufWire.WireType.lengthDelimited.rawValue, Self.isPackable(field.type) {
                    var packed = try reader.delimited()
                    while !packed.isAtEnd { elements.append(try decodeScalar(&packed, type: field.type, wireType: Self.wireType(of: field.type))) }
                } else {
                    elements.append(try decodeValue(&reader, type: field.type, wireType: wireType))
                }
                object[field.name] = .array(elements)
            case .optional, .required:
                let value = try decodeValue(&reader, type: field.type, wireType: wireType)
                if Self.readsAsAbsent(value, field) {
                    object[field.name] = nil
                } else {
                    object[field.name] = value
                }
            }
        }
        if message.slice == true { return object["items"] ?? .array([]) }
        return .object(object)
    }

    /// Go marshals a non-pointer field even when it holds its zero value, which JSON's omitempty leaves out, so both
    /// forms of an object read the same. A nested struct stays, empty or not: JSON writes non-pointer structs too.
    private static func readsAsAbsent(_ value: JSONValue, _ field: ProtobufSchema.Field) -> Bool {
        switch value {
        case .null: return true
        case .string(let text): return text.isEmpty && field.optional == true
        case .int(let number): return number == 0 && field.optional == true && field.keepZero != true
        case .bool(let flag): return !flag && field.optional == true && field.keepZero != true
        default: return false
        }
    }

    private func decodeMapEntry(_ entry: inout ProtobufWire.Reader, _ field: ProtobufSchema.Field) throws(DecodingError) -> (String, JSONValue) {
        var key = ""
        var value: JSONValue = Self.isScalar(field.type) ? .null : .object([:])
        while !entry.isAtEnd {
            let tag = try entry.varint()
            switch tag >> 3 {
            case 1: key = try decodeScalar(&entry, type: field.keyType ?? "string", wireType: Int(tag & 7)).text
            case 2: value = try decodeValue(&entry, type: field.type, wireType: Int(tag & 7))
            default: try entry.skip(Int(tag & 7))
            }
        }
        if value == .null { value = field.type == "bytes" || field.type == "string" ? .string("") : .int(0) }
        return (key, value)
    }

    private func decodeValue(_ reader: inout ProtobufWire.Reader, type: String, wireType: Int) throws(DecodingError) -> JSONValue {
        if Self.isScalar(type) { return try decodeScalar(&reader, type: type, wireType: wireType) }
        var nested = try reader.delimited()
        return try decode(&nested, as: type)
    }

    private func decodeScalar(_ reader: inout ProtobufWire.Reader, type: String, wireType: Int) throws(DecodingError) -> JSONValue {
        switch type {
        case "string":
            let nested = try reader.delimited()
            return .string(String(decoding: nested.remainingBytes, as: UTF8.self))
        case "bytes":
            let nested = try reader.delimited()
            return .string(Data(nested.remainingBytes).base64EncodedString())
        case "bool": return .bool(try reader.varint() != 0)
        case "int32": return .int(Int64(Int32(truncatingIfNeeded: try reader.varint())))
        case "int64": return .int(Int64(bitPattern: try reader.varint()))
        case "uint32", "uint64": return .int(Int64(truncatingIfNeeded: try reader.varint()))
        case "double": return .double(Double(bitPattern: try reader.fixed(8)))
        case "float": return .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: try reader.fixed(4)))))
        default:
            try reader.skip(wireType)
            throw DecodingError(description: "the scalar type \(type) is not one Kubernetes uses")
        }
    }

    private func decodeWellKnown(_ reader: inout ProtobufWire.Reader, as name: String) throws(DecodingError) -> JSONValue? {
        switch name {
        case WellKnown.time, WellKnown.microTime:
            let fields = try rawFields(&reader)
            let seconds = Int64(bitPattern: fields[1] ?? 0)
            let nanos = Int64(Int32(truncatingIfNeeded: fields[2] ?? 0))
            // Go's zero time, which JSON writes as null (a pod template's creationTimestamp).
            if seconds == 0, nanos == 0 { return .null }
            return .string(Self.timestamp(seconds: seconds, nanos: nanos, micro: name == WellKnown.microTime))
        case WellKnown.duration:
            let fields = try rawFields(&reader)
            return .string(Self.goDuration(nanoseconds: Int64(bitPattern: fields[1] ?? 0)))
        case WellKnown.quantity:
            return .string(try stringField(&reader, number: 1))
        case WellKnown.fieldsV1, WellKnown.rawExtension:
            let raw = try stringField(&reader, number: 1)
            return raw.isEmpty ? .object([:]) : ((try? JSONValue.parse(raw)) ?? .string(raw))
        case WellKnown.intOrString:
            var type: UInt64 = 0
            var number: Int64 = 0
            var text = ""
            while !reader.isAtEnd {
                let tag = try reader.varint()
                switch tag >> 3 {
                case 1: type = try reader.varint()
                case 2: number = Int64(Int32(truncatingIfNeeded: try reader.varint()))
                case 3: text = String(decoding: try reader.delimited().remainingBytes, as: UTF8.self)
                default: try reader.skip(Int(tag & 7))
                }
            }
            return type == 1 ? .string(text) : .int(number)
        default:
            return nil
        }
    }

    /// The varint fields of a small message by number.
    private func rawFields(_ reader: inout ProtobufWire.Reader) throws(DecodingError) -> [UInt64: UInt64] {
        var fields: [UInt64: UInt64] = [:]
        while !reader.isAtEnd {
            let tag = try reader.varint()
            if tag & 7 == 0 { fields[tag >> 3] = try reader.varint() } else { try reader.skip(Int(tag & 7)) }
        }
        return fields
    }

    private func stringField(_ reader: inout ProtobufWire.Reader, number: UInt64) throws(DecodingError) -> String {
        var text = ""
        while !reader.isAtEnd {
            let tag = try reader.varint()
            if tag >> 3 == number, tag & 7 == 2 {
                text = String(decoding: try reader.delimited().remainingBytes, as: UTF8.self)
            } else {
                try reader.skip(Int(tag & 7))
            }
        }
        return text
    }

    // MARK: JSON to protobuf

    func encode(_ value: JSONValue, as name: String) -> [UInt8] {
        var writer = ProtobufWire.Writer()
        encodeMessage(value, as: name, into: &writer)
        return writer.bytes
    }

    private func encodeMessage(_ value: JSONValue, as name: String, into writer: inout ProtobufWire.Writer) {
        if encodeWellKnown(value, as: name, into: &writer) { return }
        guard let message = schema.messages[name] else { return }
        if message.slice == true, let items = message.field(named: "items") {
            for element in value.arrayValue ?? [] { encodeField(element, items, into: &writer) }
            return
        }
        guard let object = value.objectValue else { return }
        for field in message.fields {
            guard let member = object[field.name], member != .null else { continue }
            switch field.label {
            case .map:
                for (key, element) in (member.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    var entry = ProtobufWire.Writer()
                    encodeScalar(.string(key), type: field.keyType ?? "string", number: 1, into: &entry)
                    encodeField(element, .init(number: 2, name: "value", type: field.type, label: .optional), into: &entry)
                    writer.delimited(field.number, entry.bytes)
                }
            case .repeated:
                for element in member.arrayValue ?? [] { encodeField(element, field, into: &writer) }
            case .optional, .required:
                encodeField(member, field, into: &writer)
            }
        }
    }

    private func encodeField(_ value: JSONValue, _ field: ProtobufSchema.Field, into writer: inout ProtobufWire.Writer) {
        if Self.isScalar(field.type) {
            encodeScalar(value, type: field.type, number: field.number, into: &writer)
        } else {
            var nested = ProtobufWire.Writer()
            encodeMessage(value, as: field.type, into: &nested)
            writer.delimited(field.number, nested.bytes)
        }
    }

    private func encodeScalar(_ value: JSONValue, type: String, number: Int, into writer: inout ProtobufWire.Writer) {
        switch type {
        case "string": writer.delimited(number, Array(value.text.utf8))
        case "bytes": writer.delimited(number, Array(Data(base64Encoded: value.stringValue ?? "") ?? Data()))
        case "bool":
            writer.tag(number, .varint)
            writer.varint(value.boolValue == true ? 1 : 0)
        case "int32", "int64", "uint32", "uint64":
            writer.tag(number, .varint)
            writer.varint(UInt64(bitPattern: value.intValue ?? 0))
        case "double":
            writer.tag(number, .fixed64)
            writer.fixed((value.doubleValue ?? 0).bitPattern, width: 8)
        case "float":
            writer.tag(number, .fixed32)
            writer.fixed(UInt64(Float(value.doubleValue ?? 0).bitPattern), width: 4)
        default: break
        }
    }

    private func encodeWellKnown(_ value: JSONValue, as name: String, into writer: inout ProtobufWire.Writer) -> Bool {
        switch name {
        case WellKnown.time, WellKnown.microTime:
            guard let (seconds, nanos) = Self.parseTimestamp(value.stringValue ?? "") else { return true }
            writer.tag(1, .varint)
            writer.varint(UInt64(bitPattern: seconds))
            if nanos != 0 {
                writer.tag(2, .varint)
                writer.varint(UInt64(bitPattern: Int64(nanos)))
            }
        case WellKnown.duration:
            writer.tag(1, .varint)
            writer.varint(UInt64(bitPattern: Self.parseGoDuration(value.stringValue ?? "") ?? 0))
        case WellKnown.quantity:
            writer.delimited(1, Array(value.text.utf8))
        case WellKnown.fieldsV1, WellKnown.rawExtension:
            writer.delimited(1, Array(value.canonicalJSON.utf8))
        case WellKnown.intOrString:
            if case .string(let text) = value {
                writer.tag(1, .varint)
                writer.varint(1)
                writer.delimited(3, Array(text.utf8))
            } else {
                writer.tag(1, .varint)
                writer.varint(0)
                writer.tag(2, .varint)
                writer.varint(UInt64(bitPattern: value.intValue ?? 0))
            }
        default:
            return false
        }
        return true
    }

    // MARK: scalars and time

    private static func isScalar(_ type: String) -> Bool { !type.contains(".") }

    private static func isPackable(_ type: String) -> Bool { isScalar(type) && type != "string" && type != "bytes" }

    private static func wireType(of type: String) -> Int {
        switch type {
        case "double": ProtobufWire.WireType.fixed64.rawValue
        case "float": ProtobufWire.WireType.fixed32.rawValue
        default: ProtobufWire.WireType.varint.rawValue
        }
    }

    /// RFC 3339 in UTC as metav1.Time (seconds) and metav1.MicroTime (microseconds) write it.
    static func timestamp(seconds: Int64, nanos: Int64, micro: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        guard micro else { return text }
        let fraction = String(format: "%06d", Int(nanos / 1_000))
        return text.replacingOccurrences(of: "Z", with: ".\(fraction)Z")
    }

    static func parseTimestamp(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return nil }
        let seconds = date.timeIntervalSince1970.rounded(.down)
        var nanos: Int32 = 0
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let digits = String(text[text.index(after: dot)..<end].prefix(9))
            nanos = Int32(digits.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
        }
        return (Int64(seconds), nanos)
    }

    /// Go's `time.Duration.String()`: `1h2m3s`, `1.5s`, `0s`.
    static func goDuration(nanoseconds: Int64) -> String {
        guard nanoseconds != 0 else { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        var rest = nanoseconds.magnitude
        if rest < 1_000_000_000 {
            for (unit, size) in [("ms", UInt64(1_000_000)), ("µs", 1_000), ("ns", 1)] where rest >= size {
                return sign + decimal(rest, size) + unit
            }
        }
        var text = ""
        let hours = rest / 3_600_000_000_000
        rest %= 3_600_000_000_000
        let minutes = rest / 60_000_000_000
        rest %= 60_000_000_000
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        return sign + text + decimal(rest, 1_000_000_000) + "s"
    }

    private static func decimal(_ value: UInt64, _ unit: UInt64) -> String {
        let whole = value / unit
        let fraction = value % unit
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: String(unit).count - 1 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// A Go duration in nanoseconds, a leading minus allowed (protobuf carries metav1.Duration signed).
    static func parseGoDuration(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        guard let seconds = UnitDuration.seconds(Substring(text).dropFirst(negative ? 1 : 0), units: UnitDuration.goUnits) else { return nil }
        return Int64((negative ? -seconds : seconds) * 1e9)
    }
}
