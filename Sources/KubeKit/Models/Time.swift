import Foundation

extension MetaV1 {
    /// A timestamp as the API writes it: RFC 3339 in UTC with whole seconds (`2006-01-02T15:04:05Z`).
    /// Decoding accepts fractional seconds and numeric offsets too; encoding drops the fraction, as the API does.
    public struct Time: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
        public var date: Date

        public init(_ date: Date) { self.date = date }

        /// Parses an RFC 3339 timestamp; nil when the text is not one.
        public init?(rfc3339 text: String) {
            guard let date = RFC3339.parse(text) else { return nil }
            self.date = date
        }

        public static func now() -> Time { Time(Date()) }

        public var rfc3339: String { RFC3339.format(date, fractionalDigits: 0) }
        public var description: String { rfc3339 }

        public static func < (lhs: Time, rhs: Time) -> Bool { lhs.date < rhs.date }

        public init(from decoder: any Decoder) throws {
            date = try RFC3339.decode(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rfc3339)
        }
    }

    /// A timestamp with microseconds (`2006-01-02T15:04:05.000000Z`), used by Events and Leases.
    public struct MicroTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
        public var date: Date

        public init(_ date: Date) { self.date = date }

        public init?(rfc3339 text: String) {
            guard let date = RFC3339.parse(text) else { return nil }
            self.date = date
        }

        public static func now() -> MicroTime { MicroTime(Date()) }

        public var rfc3339: String { RFC3339.format(date, fractionalDigits: 6) }
        public var description: String { rfc3339 }

        public static func < (lhs: MicroTime, rhs: MicroTime) -> Bool { lhs.date < rhs.date }

        public init(from decoder: any Decoder) throws {
            date = try RFC3339.decode(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rfc3339)
        }
    }
}

/// RFC 3339 timestamps by arithmetic on the civil calendar, without formatters: no locale or shared mutable state,
/// and fast enough for decoding large lists.
enum RFC3339 {
    static func decode(from decoder: any Decoder) throws -> Date {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not an RFC 3339 timestamp")
        }
        return date
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` in lower case are allowed, as RFC 3339 says.
    static func parse(_ text: String) -> Date? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2),
            (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            var scale = 0.1
            var digitCount = 0
            while let digit = scanner.digit() {
                fraction += Double(digit) * scale
                scale /= 10
                digitCount += 1
            }
            guard digitCount > 0 else { return nil }
        }
        var offsetSeconds = 0
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else {
            let sign: Int
            if scanner.skip("+") {
                sign = 1
            } else if scanner.skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHours = scanner.number(digits: 2), scanner.skip(":"),
                let offsetMinutes = scanner.number(digits: 2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard scanner.isAtEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // Rounding to microseconds keeps a MicroTime's digits stable through Date's binary floating point.
        let microseconds = (fraction * 1_000_000).rounded()
        return Date(timeIntervalSince1970: Double(seconds) + microseconds / 1_000_000)
    }

    /// UTC with `Z`, and either no fraction (truncated, as Go does) or exactly `fractionalDigits` digits.
    static func format(_ date: Date, fractionalDigits: Int) -> String {
        let scale = Int64(pow(10, Double(fractionalDigits)))
        // Whole seconds truncate like Go's formatter; fractions round so that a parsed value prints as it was read.
        let rule: FloatingPointRoundingRule = fractionalDigits == 0 ? .down : .toNearestOrAwayFromZero
        let ticks = Int64((date.timeIntervalSince1970 * Double(scale)).rounded(rule))
        let (seconds, fraction) = floorDivision(ticks, scale)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: Int(days))
        var text =
            padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T"
            + padded(Int(secondOfDay / 3600), 2) + ":" + padded(Int(secondOfDay / 60 % 60), 2) + ":"
            + padded(Int(secondOfDay % 60), 2)
        if fractionalDigits > 0 { text += "." + padded(Int(fraction), fractionalDigits) }
        return text + "Z"
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = ((value % divisor) + divisor) % divisor
        return ((value - remainder) / divisor, remainder)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil and civil_from_days (proleptic Gregorian calendar).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Reads ASCII digits and separators from a timestamp.
private struct DigitScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    mutating func digit() -> Int? {
        guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
            return nil
        }
        defer { position += 1 }
        return Int(bytes[position] - UInt8(ascii: "0"))
    }

    mutating func number(digits count: Int) -> Int? {
        var value = 0
        for _ in 0..<count {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
