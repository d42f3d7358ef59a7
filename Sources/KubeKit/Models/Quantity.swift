import Foundation

/// A Kubernetes resource quantity such as `500m`, `2`, `1.5Gi` or `1e3`
/// (k8s.io/apimachinery/pkg/api/resource, quantity.go).
///
/// The value is kept exactly, as a whole number of nano-units: Kubernetes itself keeps nothing finer, rounding
/// a finer non-zero value away from zero on parsing ("0.9n" becomes "1n"). Equality, hashing and ordering go by
/// value, so "500m" == "0.5" and "1Ki" == "1024".
///
/// `description` and encoding give the text exactly as written, so a manifest round-trips field for field;
/// `canonical` gives the form the API server writes back ("0.5" → "500m", "1024Mi" → "1Gi").
///
/// Where this type parts from Go, on purpose:
/// - Inputs Go accepts outside its own grammar ("+", "-", "." with no digits) are rejected.
/// - Magnitudes of 10^64 or more are rejected (Go has no bound); see `QuantityError.Reason.outOfRange`.
/// - Go's `String()` echoes a few inputs verbatim ("+1", "1E3"); `canonical` always normalises ("1", "1e3").
/// - `value` and `milliValue` saturate at the `Int64` bounds where Go's result is undefined.
///
/// `let cpu: Quantity = "500m"` (and `Quantity("500m")` with a literal, which Swift treats as the same) traps on a
/// malformed literal; text from outside the program goes through the throwing `init(_:)`.
public struct Quantity: Sendable {
    /// How a quantity is written; kept from the suffix it was parsed with and used again for `canonical`.
    public enum Format: String, Sendable, Hashable {
        /// Powers of 1024: `Ki Mi Gi Ti Pi Ei`, e.g. `12Mi`.
        case binarySI = "BinarySI"
        /// Powers of 1000: `n u m k M G T P E` or no suffix, e.g. `12M`.
        case decimalSI = "DecimalSI"
        /// A power of ten written out, e.g. `12e6`.
        case decimalExponent = "DecimalExponent"
    }

    public let format: Format
    /// Sign kept apart from `nanos` so that zero has a single representation (never negative).
    private let isNegative: Bool
    /// The magnitude, in units of 10⁻⁹.
    private let nanos: Magnitude
    private let writtenText: String

    /// Parses `string` with the Kubernetes grammar: an optionally signed decimal number (`2`, `0.5`, `.5`, `5.`)
    /// then an optional suffix: `n u m k M G T P E`, `Ki Mi Gi Ti Pi Ei`, or `e`/`E` and a signed integer.
    public init(_ string: String) throws(QuantityError) {
        let parsed = try Self.parse(string)
        self.init(isNegative: parsed.isNegative, nanos: parsed.nanos, format: parsed.format, writtenText: string)
    }

    /// A whole number of units, like Go's `NewQuantity`: `Quantity(2)` is "2";
    /// `Quantity(1024, format: .binarySI)` is "1Ki".
    public init(_ value: Int64, format: Format = .decimalSI) {
        let nanos = Magnitude(value.magnitude).multiplied(by: Magnitude.limbBase)
        self.init(isNegative: value < 0, nanos: nanos, format: format)
    }

    /// Thousandths of a unit, like Go's `NewMilliQuantity`: `Quantity(milli: 250)` is "250m".
    public init(milli: Int64, format: Format = .decimalSI) {
        self.init(isNegative: milli < 0, nanos: Magnitude(milli.magnitude).multiplied(by: 1_000_000), format: format)
    }

    /// A byte count, written in binary units: `Quantity(bytes: 512 << 20)` is "512Mi".
    public init(bytes: Int64) {
        self.init(bytes, format: .binarySI)
    }

    /// For computed values, whose text is their canonical form.
    private init(isNegative: Bool, nanos: Magnitude, format: Format) {
        let isNegative = isNegative && !nanos.isZero
        let text = Self.canonicalText(isNegative: isNegative, nanos: nanos, format: format)
        self.init(isNegative: isNegative, nanos: nanos, format: format, writtenText: text)
    }

    private init(isNegative: Bool, nanos: Magnitude, format: Format, writtenText: String) {
        self.isNegative = isNegative
        self.nanos = nanos
        self.format = format
        self.writtenText = writtenText
    }

    /// The form Kubernetes writes back (Go's `Quantity.String()`): no fraction, the largest suffix that loses
    /// nothing, in the quantity's own format. A binary value below 1Ki or with a fraction is written in decimal
    /// ("0.5Ki" → "512", "1.5Ki" → "1536"), as is a decimal suffix beyond "E" ("1000E" → "1e21").
    public var canonical: String {
        Self.canonicalText(isNegative: isNegative, nanos: nanos, format: format)
    }

    /// The value in whole units, rounded away from zero ("1.2" → 2, "-1.2" → -2) as Go's `Value()` does for
    /// parsed quantities: asking for a fraction of a CPU asks for a whole one. Saturates at the `Int64` bounds.
    public var value: Int64 {
        scaledValue(nanosPerStep: Magnitude.limbBase)
    }

    /// The value in thousandths, rounded away from zero like Go's `MilliValue()` ("1n" → 1).
    /// Saturates at the `Int64` bounds.
    public var milliValue: Int64 {
        scaledValue(nanosPerStep: 1_000_000)
    }

    /// The value as a `Double`; approximate beyond 2^53 units, like Go's `AsApproximateFloat64()`.
    public var doubleValue: Double {
        var wholeUnits = nanos
        let fractionNanos = wholeUnits.divide(by: Magnitude.limbBase)
        let magnitude = wholeUnits.approximateDouble + Double(fractionNanos) / Double(Magnitude.limbBase)
        return isNegative ? -magnitude : magnitude
    }

    private func scaledValue(nanosPerStep: UInt32) -> Int64 {
        var steps = nanos
        let remainder = steps.divide(by: nanosPerStep)
        let (rounded, overflow) = steps.saturatingUInt64.addingReportingOverflow(remainder == 0 ? 0 : 1)
        let magnitude = overflow ? UInt64.max : rounded
        if isNegative {
            return magnitude >= Int64.min.magnitude ? .min : -Int64(magnitude)
        }
        return Int64(clamping: magnitude)
    }
}

// MARK: - Errors

/// Why a text is not a quantity; `description` names the input and says what is accepted instead.
public struct QuantityError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// Not in the quantity grammar.
        case malformed
        /// Well formed, but 10^64 or more in magnitude: far beyond anything a cluster measures, and refused so that
        /// a short text such as "1e999999999" cannot make the parser spell out a billion digits.
        case outOfRange
    }

    public let input: String
    public let reason: Reason

    public init(input: String, reason: Reason) {
        self.input = input
        self.reason = reason
    }

    public var description: String {
        // Quoted with escapes so that whitespace and control characters in the input show; cut short so that an
        // absurd input cannot flood a log line.
        let shownLimit = 64
        let shown = input.count > shownLimit ? String(input.prefix(shownLimit)) + "…" : input
        let quoted = String(reflecting: shown)
        switch reason {
        case .malformed:
            return "invalid quantity \(quoted): expected a number with an optional suffix, such as 500m, 0.5, 2, "
                + "1.5Gi, 512Mi, 1e3 (suffixes: n u m k M G T P E, Ki Mi Gi Ti Pi Ei)"
        case .outOfRange:
            return "invalid quantity \(quoted): the magnitude must be below 1e64"
        }
    }
}

// MARK: - Parsing

extension Quantity {
    /// Exclusive bound on the number of whole-unit digits (see `QuantityError.Reason.outOfRange`).
    private static let maximumWholeDigits = 64

    /// Kubernetes caps a binarySI quantity, silently, at 2^63-1 ("8Ei" parses as 9223372036854775807).
    private static let largestBinaryNanos = Magnitude(UInt64(Int64.max)).multiplied(by: Magnitude.limbBase)

    private static let oneUnitNanos = Magnitude(UInt64(Magnitude.limbBase))

    /// Decimal SI suffixes and their powers of ten; "" (no suffix) is the plain number.
    private static let decimalSuffixes: [(suffix: String, exponent: Int)] = [
        ("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18),
    ]

    /// Binary SI suffixes, indexed by their power of 1024 (index 0, no suffix, is only written, never parsed:
    /// a bare number is decimalSI).
    private static let binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

    /// What a suffix multiplies the number by: 10^powerOfTen × 1024^powerOf1024.
    private struct SuffixMeaning {
        var format: Format
        var powerOfTen = 0
        var powerOf1024 = 0
    }

    private static func parse(
        _ text: String
    ) throws(QuantityError) -> (isNegative: Bool, nanos: Magnitude, format: Format) {
        let malformed = QuantityError(input: text, reason: .malformed)
        let bytes = Array(text.utf8)
        var position = 0

        var isNegative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            isNegative = bytes[position] == UInt8(ascii: "-")
            position += 1
        }
        let wholeDigits = scanDigits(bytes, from: &position)
        var fractionDigits: ArraySlice<UInt8> = []
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            fractionDigits = scanDigits(bytes, from: &position)
        }
        guard !wholeDigits.isEmpty || !fractionDigits.isEmpty,
            let meaning = suffixMeaning(String(decoding: bytes[position...], as: UTF8.self))
        else {
            throw malformed
        }

        // The number is significantDigits × 1024^powerOf1024 × 10^(powerOfTen - fractionDigits.count);
        // in nanos that is one more factor of 10^9.
        var digits = Array((wholeDigits + fractionDigits).drop { $0 == UInt8(ascii: "0") })
        if meaning.powerOf1024 > 0, !digits.isEmpty {
            var product = Magnitude(asciiDigits: digits)
            for _ in 0..<meaning.powerOf1024 {
                product = product.multiplied(by: 1024)
            }
            digits = Array(product.decimalDigits.utf8)
        }
        let nanoShift = meaning.powerOfTen - fractionDigits.count + 9
        guard digits.count + nanoShift - 9 <= maximumWholeDigits else {
            throw QuantityError(input: text, reason: .outOfRange)
        }

        var nanos: Magnitude
        if nanoShift >= 0 {
            nanos = Magnitude(asciiDigits: digits + repeatElement(UInt8(ascii: "0"), count: nanoShift))
        } else {
            // Finer than a nano: drop the extra digits and, like Kubernetes, round any non-zero remainder away
            // from zero, so that asking for a tiny amount still asks for some.
            let droppedCount = min(-nanoShift, digits.count)
            let dropsNonZero = digits.suffix(droppedCount).contains { $0 != UInt8(ascii: "0") }
            nanos = Magnitude(asciiDigits: Array(digits.dropLast(droppedCount)))
            if dropsNonZero {
                nanos = nanos + Magnitude(1)
            }
        }

        var format = meaning.format
        if format == .binarySI {
            nanos = min(nanos, largestBinaryNanos)
            // A binary amount below one unit has no binary spelling; Kubernetes switches it to decimalSI.
            if !nanos.isZero, nanos < oneUnitNanos {
                format = .decimalSI
            }
        }
        return (isNegative && !nanos.isZero, nanos, format)
    }

    /// Advances `position` past ASCII digits and returns them (possibly none).
    private static func scanDigits(_ bytes: [UInt8], from position: inout Int) -> ArraySlice<UInt8> {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            position += 1
        }
        return bytes[start..<position]
    }

    private static func suffixMeaning(_ suffix: String) -> SuffixMeaning? {
        if let decimal = decimalSuffixes.first(where: { $0.suffix == suffix }) {
            return SuffixMeaning(format: .decimalSI, powerOfTen: decimal.exponent)
        }
        if !suffix.isEmpty, let power = binarySuffixes.firstIndex(of: suffix) {
            return SuffixMeaning(format: .binarySI, powerOf1024: power)
        }
        // "E" alone is exa (matched above); "e"/"E" then a signed integer is an exponent. Int32 parses only an
        // optional sign and ASCII digits, which is exactly the exponent grammar.
        guard let marker = suffix.first, marker == "e" || marker == "E",
            let exponent = Int32(suffix.dropFirst())
        else {
            return nil
        }
        return SuffixMeaning(format: .decimalExponent, powerOfTen: Int(exponent))
    }
}

// MARK: - Canonical form

extension Quantity {
    private static func canonicalText(isNegative: Bool, nanos: Magnitude, format: Format) -> String {
        if nanos.isZero {
            return "0"
        }
        let sign = isNegative ? "-" : ""
        if format == .binarySI, let binary = binaryCanonical(nanos) {
            return sign + binary
        }
        return sign + decimalCanonical(nanos, format: format)
    }

    /// The binary spelling, or nil when there is none that loses nothing (a fraction, or below 1Ki).
    private static func binaryCanonical(_ nanos: Magnitude) -> String? {
        var units = nanos
        guard units.divide(by: Magnitude.limbBase) == 0, units >= Magnitude(1024) else {
            return nil
        }
        var power = 0
        // Stops at Ei, the largest suffix, so a sum beyond it reads "1024Ei" rather than losing its suffix.
        while power < binarySuffixes.count - 1 {
            var quotient = units
            guard quotient.divide(by: 1024) == 0 else {
                break
            }
            units = quotient
            power += 1
        }
        return units.decimalDigits + binarySuffixes[power]
    }

    private static func decimalCanonical(_ nanos: Magnitude, format: Format) -> String {
        var digits = nanos.decimalDigits
        var exponent = -9
        let trailingZeros = digits.reversed().prefix { $0 == "0" }.count
        digits.removeLast(trailingZeros)
        exponent += trailingZeros
        // Kubernetes only writes exponents that are multiples of three, the ones with SI suffixes.
        while exponent % 3 != 0 {
            digits.append("0")
            exponent -= 1
        }
        let exponentSuffix = exponent == 0 ? "" : "e\(exponent)"
        guard format != .decimalExponent else {
            return digits + exponentSuffix
        }
        return digits + (decimalSuffixes.first { $0.exponent == exponent }?.suffix ?? exponentSuffix)
    }
}

// MARK: - Value semantics

extension Quantity: Hashable, Comparable {
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.nanos == rhs.nanos
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(nanos)
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        switch (lhs.isNegative, rhs.isNegative) {
        case (true, false): true
        case (false, true): false
        case (false, false): lhs.nanos < rhs.nanos
        case (true, true): rhs.nanos < lhs.nanos
        }
    }
}

// MARK: - Arithmetic

extension Quantity {
    /// The sum, exact, written canonically; the format is the left side's unless that is zero (as Go's `Add`).
    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        let format = lhs.nanos.isZero ? rhs.format : lhs.format
        if lhs.isNegative == rhs.isNegative {
            return Quantity(isNegative: lhs.isNegative, nanos: lhs.nanos + rhs.nanos, format: format)
        }
        if lhs.nanos >= rhs.nanos {
            return Quantity(isNegative: lhs.isNegative, nanos: lhs.nanos - rhs.nanos, format: format)
        }
        return Quantity(isNegative: rhs.isNegative, nanos: rhs.nanos - lhs.nanos, format: format)
    }

    /// The difference, exact, written canonically; the format is the left side's unless that is zero (as Go's `Sub`).
    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        lhs + -rhs
    }

    public static prefix func - (operand: Quantity) -> Quantity {
        Quantity(isNegative: !operand.isNegative, nanos: operand.nanos, format: operand.format)
    }
}

// MARK: - Text and coding

extension Quantity: CustomStringConvertible, ExpressibleByStringLiteral, Codable {
    /// The text exactly as written; `canonical` is the normalised form.
    public var description: String {
        writtenText
    }

    // A malformed literal is a mistake in source code, so it traps; text from outside goes through `init(_:)`.
    public init(stringLiteral value: String) {
        do {
            try self.init(value)
        } catch {
            preconditionFailure(String(describing: error))
        }
    }

    /// Accepts a string, or a number as the API server does (`cpu: 1`), keeping the number's text as Foundation
    /// prints it ("1", "0.5").
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else if let number = try? container.decode(Decimal.self) {
            text = number.description
        } else {
            throw DecodingError.typeMismatch(
                Quantity.self,
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected a quantity as a string such as \"500m\" or as a number"
                )
            )
        }
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: String(describing: error))
        }
    }

    /// Writes the text as written, so that re-encoding a manifest changes nothing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(writtenText)
    }
}

// MARK: - Magnitude

/// An unsigned whole number of any size, in base-10⁹ limbs, least significant first, with no leading zero limbs
/// (zero has none), so that equal numbers have equal limbs. Base 10⁹ makes decimal text a matter of printing
/// each limb in nine digits, and one limb is exactly the nanos of a unit.
private struct Magnitude: Sendable, Hashable, Comparable {
    static let limbBase: UInt32 = 1_000_000_000

    private let limbs: [UInt32]

    private init(limbs: [UInt32]) {
        var limbs = limbs
        while limbs.last == 0 {
            limbs.removeLast()
        }
        self.limbs = limbs
    }

    init(_ value: UInt64) {
        var limbs: [UInt32] = []
        var rest = value
        while rest > 0 {
            limbs.append(UInt32(rest % UInt64(Self.limbBase)))
            rest /= UInt64(Self.limbBase)
        }
        self.init(limbs: limbs)
    }

    /// From ASCII decimal digits (none means zero).
    init(asciiDigits: [UInt8]) {
        var limbs: [UInt32] = []
        var end = asciiDigits.endIndex
        while end > asciiDigits.startIndex {
            let start = max(asciiDigits.startIndex, end - 9)
            limbs.append(asciiDigits[start..<end].reduce(0) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) })
            end = start
        }
        self.init(limbs: limbs)
    }

    var isZero: Bool {
        limbs.isEmpty
    }

    var decimalDigits: String {
        guard let mostSignificant = limbs.last else {
            return "0"
        }
        var text = String(mostSignificant)
        for limb in limbs.dropLast().reversed() {
            let digits = String(limb)
            text += String(repeating: "0", count: 9 - digits.count) + digits
        }
        return text
    }

    /// The value, or `UInt64.max` when it does not fit.
    var saturatingUInt64: UInt64 {
        var result: UInt64 = 0
        for limb in limbs.reversed() {
            let (shifted, overflowShift) = result.multipliedReportingOverflow(by: UInt64(Self.limbBase))
            let (sum, overflowAdd) = shifted.addingReportingOverflow(UInt64(limb))
            if overflowShift || overflowAdd {
                return .max
            }
            result = sum
        }
        return result
    }

    var approximateDouble: Double {
        limbs.reversed().reduce(0) { $0 * Double(Self.limbBase) + Double($1) }
    }

    func multiplied(by factor: UInt32) -> Magnitude {
        var product: [UInt32] = []
        var carry: UInt64 = 0
        for limb in limbs {
            let partial = UInt64(limb) * UInt64(factor) + carry
            product.append(UInt32(partial % UInt64(Self.limbBase)))
            carry = partial / UInt64(Self.limbBase)
        }
        while carry > 0 {
            product.append(UInt32(carry % UInt64(Self.limbBase)))
            carry /= UInt64(Self.limbBase)
        }
        return Magnitude(limbs: product)
    }

    /// Divides in place and returns the remainder.
    mutating func divide(by divisor: UInt32) -> UInt32 {
        var remainder: UInt64 = 0
        var quotient = limbs
        for index in quotient.indices.reversed() {
            let dividend = remainder * UInt64(Self.limbBase) + UInt64(quotient[index])
            quotient[index] = UInt32(dividend / UInt64(divisor))
            remainder = dividend % UInt64(divisor)
        }
        self = Magnitude(limbs: quotient)
        return UInt32(remainder)
    }

    static func + (lhs: Magnitude, rhs: Magnitude) -> Magnitude {
        var sum: [UInt32] = []
        var carry: UInt32 = 0
        for index in 0..<max(lhs.limbs.count, rhs.limbs.count) {
            var limb = lhs.limb(at: index) + rhs.limb(at: index) + carry
            carry = limb >= limbBase ? 1 : 0
            limb -= carry * limbBase
            sum.append(limb)
        }
        sum.append(carry)
        return Magnitude(limbs: sum)
    }

    /// Requires `lhs >= rhs`.
    static func - (lhs: Magnitude, rhs: Magnitude) -> Magnitude {
        precondition(lhs >= rhs, "Magnitude subtraction would go below zero")
        var difference: [UInt32] = []
        var borrow: UInt32 = 0
        for index in lhs.limbs.indices {
            let subtrahend = rhs.limb(at: index) + borrow
            if lhs.limbs[index] >= subtrahend {
                difference.append(lhs.limbs[index] - subtrahend)
                borrow = 0
            } else {
                difference.append(lhs.limbs[index] + limbBase - subtrahend)
                borrow = 1
            }
        }
        return Magnitude(limbs: difference)
    }

    static func < (lhs: Magnitude, rhs: Magnitude) -> Bool {
        if lhs.limbs.count != rhs.limbs.count {
            return lhs.limbs.count < rhs.limbs.count
        }
        for (left, right) in zip(lhs.limbs.reversed(), rhs.limbs.reversed()) where left != right {
            return left < right
        }
        return false
    }

    private func limb(at index: Int) -> UInt32 {
        index < limbs.count ? limbs[index] : 0
    }
}
