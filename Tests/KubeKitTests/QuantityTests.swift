import Foundation
import KubeKit
import Testing

/// Cases marked "Go" come from k8s.io/apimachinery pkg/api/resource/quantity_test.go
/// (TestQuantityParse, TestQuantityString, TestQuantityParseEmit, TestNewSet, TestMilliNewSet).
@Suite("Quantity")
struct QuantityTests {
    // MARK: Parsing

    struct ParseCase: Sendable, CustomTestStringConvertible {
        let input: String
        let canonical: String
        let format: Quantity.Format
        var testDescription: String { input }
    }

    static let acceptedForms: [ParseCase] = [
        // Zero in every format (Go).
        ParseCase(input: "0", canonical: "0", format: .decimalSI),
        ParseCase(input: "0n", canonical: "0", format: .decimalSI),
        ParseCase(input: "0m", canonical: "0", format: .decimalSI),
        ParseCase(input: "0Ki", canonical: "0", format: .binarySI),
        ParseCase(input: "0T", canonical: "0", format: .decimalSI),
        ParseCase(input: "-0", canonical: "0", format: .decimalSI),
        ParseCase(input: "0e0", canonical: "0", format: .decimalExponent),
        // Every binary suffix (Go).
        ParseCase(input: "1Ki", canonical: "1Ki", format: .binarySI),
        ParseCase(input: "8Ki", canonical: "8Ki", format: .binarySI),
        ParseCase(input: "7Mi", canonical: "7Mi", format: .binarySI),
        ParseCase(input: "6Gi", canonical: "6Gi", format: .binarySI),
        ParseCase(input: "5Ti", canonical: "5Ti", format: .binarySI),
        ParseCase(input: "4Pi", canonical: "4Pi", format: .binarySI),
        ParseCase(input: "3Ei", canonical: "3Ei", format: .binarySI),
        ParseCase(input: "100Ti", canonical: "100Ti", format: .binarySI),
        // Every decimal suffix (Go).
        ParseCase(input: "5n", canonical: "5n", format: .decimalSI),
        ParseCase(input: "4u", canonical: "4u", format: .decimalSI),
        ParseCase(input: "3m", canonical: "3m", format: .decimalSI),
        ParseCase(input: "9", canonical: "9", format: .decimalSI),
        ParseCase(input: "8k", canonical: "8k", format: .decimalSI),
        ParseCase(input: "50k", canonical: "50k", format: .decimalSI),
        ParseCase(input: "7M", canonical: "7M", format: .decimalSI),
        ParseCase(input: "6G", canonical: "6G", format: .decimalSI),
        ParseCase(input: "5T", canonical: "5T", format: .decimalSI),
        ParseCase(input: "300T", canonical: "300T", format: .decimalSI),
        ParseCase(input: "2P", canonical: "2P", format: .decimalSI),
        ParseCase(input: "1E", canonical: "1E", format: .decimalSI),
        ParseCase(input: "12E", canonical: "12E", format: .decimalSI),
        // Decimal exponents, either case, signed (Go).
        ParseCase(input: "1E-3", canonical: "1e-3", format: .decimalExponent),
        ParseCase(input: "1e3", canonical: "1e3", format: .decimalExponent),
        ParseCase(input: "1E6", canonical: "1e6", format: .decimalExponent),
        ParseCase(input: "1e+3", canonical: "1e3", format: .decimalExponent),
        ParseCase(input: "1e13", canonical: "10e12", format: .decimalExponent),
        ParseCase(input: "1e14", canonical: "100e12", format: .decimalExponent),
        ParseCase(input: "1.2e3", canonical: "1200", format: .decimalExponent),
        ParseCase(input: "1.3E+6", canonical: "1300e3", format: .decimalExponent),
        ParseCase(input: "0.5e-1", canonical: "50e-3", format: .decimalExponent),
        // Fractions in all their spellings (Go).
        ParseCase(input: "0.5", canonical: "500m", format: .decimalSI),
        ParseCase(input: ".001", canonical: "1m", format: .decimalSI),
        ParseCase(input: ".0001k", canonical: "100m", format: .decimalSI),
        ParseCase(input: "1.", canonical: "1", format: .decimalSI),
        ParseCase(input: "1.G", canonical: "1G", format: .decimalSI),
        ParseCase(input: "0.00500", canonical: "5m", format: .decimalSI),
        ParseCase(input: "100.035k", canonical: "100035", format: .decimalSI),
        ParseCase(input: "10.035M", canonical: "10035k", format: .decimalSI),
        ParseCase(input: "6.987654321G", canonical: "6987654321", format: .decimalSI),
        ParseCase(input: "2.5P", canonical: "2500T", format: .decimalSI),
        ParseCase(input: "1.01E", canonical: "1010P", format: .decimalSI),
        // Signs.
        ParseCase(input: "+1", canonical: "1", format: .decimalSI),
        ParseCase(input: "-1", canonical: "-1", format: .decimalSI),
        ParseCase(input: "-1.5Gi", canonical: "-1536Mi", format: .binarySI),
        ParseCase(input: "+.5", canonical: "500m", format: .decimalSI),
        // Below a nano rounds away from zero (Go).
        ParseCase(input: "3.001n", canonical: "4n", format: .decimalSI),
        ParseCase(input: "1.1E-9", canonical: "2e-9", format: .decimalExponent),
        ParseCase(input: "0.0000000001", canonical: "1n", format: .decimalSI),
        ParseCase(input: "0.9n", canonical: "1n", format: .decimalSI),
        ParseCase(input: "-0.9n", canonical: "-1n", format: .decimalSI),
        ParseCase(input: "0.00000012345", canonical: "124n", format: .decimalSI),
        ParseCase(input: "0.5e-9", canonical: "1e-9", format: .decimalExponent),
        ParseCase(input: "1e-2000000000", canonical: "1e-9", format: .decimalExponent),
        // Fractional binary (Go): exact, written in decimal when not a whole number; below 1 it becomes decimalSI.
        ParseCase(input: "0.5Mi", canonical: "512Ki", format: .binarySI),
        ParseCase(input: "100.035Ki", canonical: "102435840m", format: .binarySI),
        ParseCase(input: "0.05Gi", canonical: "53687091200m", format: .binarySI),
        ParseCase(input: "0.000000000001Ki", canonical: "2n", format: .decimalSI),
        // Binary is capped at 2^63-1, decimal is not (Go).
        ParseCase(input: "9Ei", canonical: "9223372036854775807", format: .binarySI),
        ParseCase(input: "9223372036854775807Ki", canonical: "9223372036854775807", format: .binarySI),
        ParseCase(input: "18446744073709551616", canonical: "18446744073709551616", format: .decimalSI),
        ParseCase(input: "1e63", canonical: "1e63", format: .decimalExponent),
    ]

    @Test("parses the accepted forms", arguments: acceptedForms)
    func parsesAcceptedForm(_ testCase: ParseCase) throws {
        let quantity = try Quantity(testCase.input)
        #expect(quantity.canonical == testCase.canonical)
        #expect(quantity.format == testCase.format)
        #expect(quantity.description == testCase.input)
        // The canonical form is itself accepted and means the same value.
        #expect(try Quantity(testCase.canonical) == quantity)
    }

    static let malformedInputs = [
        "", " ", " 1", "1 ", "1\n", "8 cpus", "1KB", "1kb", "1ki", "1KI", "Mi", "k", "--1", "+-1", "-+1", "+", "-",
        ".", "-.", "..5", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "1e", "1e+", "-3.01e-",
        "1e1.5", "1e3k", "1Gi5", "1Mii", "0x10", "1_000", "1,5", "١", "１", "NaN", "inf", "1e99999999999",
    ]

    @Test("rejects malformed text", arguments: malformedInputs)
    func rejectsMalformed(_ input: String) {
        #expect(throws: QuantityError(input: input, reason: .malformed)) {
            try Quantity(input)
        }
    }

    @Test("names the bad input and lists the accepted forms")
    func malformedMessage() {
        let error = QuantityError(input: "8 cpus", reason: .malformed)
        #expect(
            error.description == """
                invalid quantity "8 cpus": expected a number with an optional suffix, such as 500m, 0.5, 2, 1.5Gi, \
                512Mi, 1e3 (suffixes: n u m k M G T P E, Ki Mi Gi Ti Pi Ei)
                """)
    }

    @Test("escapes and shortens the input in messages")
    func messageShowsInputSafely() {
        #expect(QuantityError(input: "1\n", reason: .malformed).description.hasPrefix(#"invalid quantity "1\n": "#))
        let long = String(repeating: "9", count: 100) + "x"
        let expectedPrefix = "invalid quantity \"" + String(repeating: "9", count: 64) + "…\": "
        #expect(QuantityError(input: long, reason: .malformed).description.hasPrefix(expectedPrefix))
    }

    @Test(
        "rejects magnitudes of 1e64 and more",
        arguments: [
            "1e64", "-1e64", "10e63", "1e2000000000", "1" + String(repeating: "0", count: 64),
            "1" + String(repeating: "0", count: 46) + "E", "9007199254740992000000000000000000000000000000000000Ei",
        ])
    func rejectsOutOfRange(_ input: String) {
        #expect(throws: QuantityError(input: input, reason: .outOfRange)) {
            try Quantity(input)
        }
    }

    @Test("names the bound when the magnitude is out of range")
    func outOfRangeMessage() {
        #expect(
            QuantityError(input: "1e64", reason: .outOfRange).description
                == #"invalid quantity "1e64": the magnitude must be below 1e64"#)
    }

    // MARK: Canonical form

    static let canonicalForms: [(input: String, canonical: String)] = [
        // The brief's examples.
        ("0.5", "500m"), ("1000", "1k"), ("1.5Gi", "1536Mi"), ("1024Mi", "1Gi"), ("100m", "100m"), ("0.1", "100m"),
        ("1e3", "1e3"), ("1500m", "1500m"), ("12e6", "12e6"), ("0", "0"), ("0.5Ki", "512"), ("0.1n", "1n"),
        // TestQuantityString alternates (Go).
        ("307200Ki", "300Mi"), ("6Ki", "6Ki"), ("1025024Mi", "1001Gi"), ("1024Gi", "1Ti"), ("1000M", "1G"),
        ("0.001T", "1G"), ("1000u", "1m"), ("1.08", "1080m"), ("1080000000n", "1080m"), ("80m", "80m"),
        ("300M", "300M"), ("1234567M", "1234567M"), ("1025Ki", "1025Ki"), ("1000E", "1e21"), ("5000E", "5e21"),
        ("1000000E", "1e24"), (".001e12", "1e9"), ("0.001e0", "1e-3"), ("1000e-12", "1e-9"), ("80e-3", "80e-3"),
        ("300e6", "300e6"), ("00", "0"), ("1080n", "1080n"), ("1080u", "1080u"), ("1.2345", "1234500u"),
        // TestQuantityParseEmit (Go).
        ("1Ki", "1Ki"), ("1Mi", "1Mi"), ("1Gi", "1Gi"), (".001Ki", "1024m"), (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"), (".000000000001Ki", "2n"),
        // Binary below 1Ki, or not a whole number, falls back to decimal.
        ("1.5Ki", "1536"), ("0.9990234375Ki", "1023"), ("0.0009765625Ki", "1"), ("1.1Ki", "1126400m"),
    ]

    @Test("writes the canonical form", arguments: canonicalForms)
    func canonicalForm(_ input: String, _ canonical: String) throws {
        #expect(try Quantity(input).canonical == canonical)
    }

    @Test("writes negatives with a leading minus", arguments: canonicalForms.filter { $0.canonical != "0" })
    func negativeCanonicalForm(_ input: String, _ canonical: String) throws {
        #expect(try Quantity("-" + input).canonical == "-" + canonical)
    }

    // MARK: Value semantics

    @Test(
        "compares equal by value",
        arguments: [
            ("500m", "0.5"), ("1k", "1000"), ("1Ki", "1024"), ("1Gi", "1024Mi"), ("1e3", "1k"), ("0", "-0"),
            ("0Ki", "0m"), ("1.5Gi", "1536Mi"), ("9Ei", "9223372036854775807"), ("0.9n", "1n"),
        ])
    func equalByValue(_ left: String, _ right: String) throws {
        let lhs = try Quantity(left)
        let rhs = try Quantity(right)
        #expect(lhs == rhs)
        #expect(lhs.hashValue == rhs.hashValue)
        #expect(!(lhs < rhs) && !(rhs < lhs))
    }

    @Test(
        "orders by value",
        arguments: [
            ("1000Mi", "1Gi"), ("50m", "100m"), ("100Gi", "10000T"), ("1G", "1Gi"), ("-1", "0"), ("-2", "-1"),
            ("-1Gi", "1n"), ("0", "1n"), ("999999999n", "1"), ("18446744073709551615", "18446744073709551616"),
        ])
    func ordersByValue(_ smaller: String, _ larger: String) throws {
        let lhs = try Quantity(smaller)
        let rhs = try Quantity(larger)
        #expect(lhs < rhs)
        #expect(rhs > lhs)
        #expect(lhs != rhs)
    }

    @Test("deduplicates by value in a set")
    func hashesByValue() {
        let quantities: Set<Quantity> = ["500m", "0.5", "1k", "1000", "1e3", "1Ki"]
        #expect(quantities.count == 3)
    }

    @Test("sorts by value")
    func sortsByValue() {
        let quantities: [Quantity] = ["1Gi", "-1", "500m", "1000Mi", "0", "1n"]
        #expect(quantities.sorted().map(\.description) == ["-1", "0", "1n", "500m", "1000Mi", "1Gi"])
    }

    // MARK: Numeric views

    @Test(
        "rounds value and milliValue away from zero",
        arguments: [
            ("1", Int64(1), Int64(1000)),
            ("1.2", 2, 1200),
            ("-1.2", -2, -1200),
            ("100m", 1, 100),
            ("1n", 1, 1),
            ("1500001n", 1, 2),
            ("-1n", -1, -1),
            ("0", 0, 0),
            ("1Gi", 1_073_741_824, 1_073_741_824_000),
            ("12e6", 12_000_000, 12_000_000_000),
        ])
    func roundedValues(_ input: String, _ value: Int64, _ milliValue: Int64) throws {
        let quantity = try Quantity(input)
        #expect(quantity.value == value)
        #expect(quantity.milliValue == milliValue)
    }

    @Test("saturates value and milliValue at the Int64 bounds")
    func saturatedValues() {
        let largestBinary: Quantity = "9Ei"
        #expect(largestBinary.value == .max)
        #expect(largestBinary.milliValue == .max)
        let negativeBinary: Quantity = "-9Ei"
        #expect(negativeBinary.value == -.max)
        #expect(negativeBinary.milliValue == .min)
        #expect(Quantity("1e30").value == .max)
        #expect(Quantity("-1e30").value == .min)
        #expect(Quantity(.min).value == .min)
    }

    @Test(
        "converts to Double",
        arguments: [
            ("500m", 0.5), ("1.5Gi", 1_610_612_736), ("-2.5", -2.5), ("1n", 1e-9), ("0", 0), ("1e18", 1e18),
        ])
    func doubleValue(_ input: String, _ expected: Double) throws {
        #expect(try Quantity(input).doubleValue == expected)
    }

    // MARK: Construction from numbers (TestNewSet, TestMilliNewSet in Go)

    @Test("builds from whole units, thousandths and bytes")
    func numericInitialisers() {
        #expect(Quantity(1).canonical == "1")
        #expect(Quantity(1000).canonical == "1k")
        #expect(Quantity(1_234_000).canonical == "1234k")
        #expect(Quantity(1024, format: .binarySI).canonical == "1Ki")
        #expect(Quantity(1_000_000, format: .decimalExponent).canonical == "1e6")
        #expect(Quantity(-3).canonical == "-3")
        #expect(Quantity(.min).canonical == "-9223372036854775808")
        #expect(Quantity(milli: 1).canonical == "1m")
        #expect(Quantity(milli: 1000).canonical == "1")
        #expect(Quantity(milli: 1_234_000).canonical == "1234")
        #expect(Quantity(milli: 1024, format: .binarySI).canonical == "1024m")
        #expect(Quantity(milli: 1_048_576, format: .binarySI).canonical == "1048576m")
        #expect(Quantity(milli: 250).milliValue == 250)
        #expect(Quantity(bytes: 512 << 20).canonical == "512Mi")
        #expect(Quantity(bytes: 512 << 20).format == .binarySI)
        // Below 1Ki there is no binary spelling; Go writes NewQuantity(1000, BinarySI) as "1k" too.
        #expect(Quantity(bytes: 1000).canonical == "1k")
        // Computed quantities read as their canonical form.
        #expect(Quantity(milli: 1500).description == "1500m")
    }

    // MARK: Arithmetic

    @Test(
        "adds and subtracts exactly",
        arguments: [
            ("1Gi", "512Mi", "1536Mi", "512Mi"),
            ("1", "250m", "1250m", "750m"),
            ("250m", "1", "1250m", "-750m"),
            ("100m", "100m", "200m", "0"),
            ("0", "1Gi", "1Gi", "-1Gi"),
            ("-1", "-2", "-3", "1"),
            ("1n", "999999999n", "1", "-999999998n"),
            ("18446744073709551615", "1", "18446744073709551616", "18446744073709551614"),
        ])
    func arithmetic(_ left: String, _ right: String, _ sum: String, _ difference: String) throws {
        let lhs = try Quantity(left)
        let rhs = try Quantity(right)
        #expect((lhs + rhs).canonical == sum)
        #expect((lhs - rhs).canonical == difference)
        #expect((lhs + rhs).description == sum)
    }

    @Test("keeps the left format, or the right one when the left is zero, as Go's Add does")
    func arithmeticFormat() {
        #expect((Quantity("0") + Quantity("1Gi")).format == .binarySI)
        #expect((Quantity("1Gi") + Quantity("1G")).format == .binarySI)
        #expect((Quantity("1G") + Quantity("1Gi")).format == .decimalSI)
        #expect((-Quantity("1Gi")).canonical == "-1Gi")
        #expect((-Quantity("0")).canonical == "0")
    }

    @Test("keeps the Ei suffix for sums beyond it")
    func binaryBeyondExbi() {
        let exbi: Quantity = "1Ei"
        let sum = (1..<1024).reduce(exbi) { total, _ in total + exbi }
        #expect(sum.canonical == "1024Ei")
    }

    // MARK: Literals and coding

    @Test("reads a string literal")
    func stringLiteral() {
        let quantity: Quantity = "1.5Gi"
        #expect(quantity.description == "1.5Gi")
        #expect(quantity.canonical == "1536Mi")
        #expect("\(quantity)" == "1.5Gi")
    }

    struct Resources: Codable, Equatable {
        var cpu: Quantity
        var memory: Quantity
    }

    @Test("round-trips JSON keeping the text as written")
    func codableRoundTrip() throws {
        let json = Data(#"{"cpu":"0.5","memory":"1024Mi"}"#.utf8)
        let decoded = try JSONDecoder().decode(Resources.self, from: json)
        #expect(decoded.cpu.description == "0.5")
        #expect(decoded.cpu == Quantity(milli: 500))
        #expect(decoded.memory == Quantity(bytes: 1 << 30))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(decoded), as: UTF8.self) == #"{"cpu":"0.5","memory":"1024Mi"}"#)
    }

    @Test(
        "decodes a JSON number keeping its text",
        arguments: [
            ("1", "1", "1"), ("-2", "-2", "-2"), ("0.5", "0.5", "500m"), ("1500", "1500", "1500"),
            ("1e-7", "0.0000001", "100n"), ("18446744073709551616", "18446744073709551616", "18446744073709551616"),
        ])
    func decodesNumber(_ json: String, _ description: String, _ canonical: String) throws {
        let decoded = try JSONDecoder().decode(Resources.self, from: Data(#"{"cpu":\#(json),"memory":0}"#.utf8))
        #expect(decoded.cpu.description == description)
        #expect(decoded.cpu.canonical == canonical)
        let encoded = String(decoding: try JSONEncoder().encode(decoded.cpu), as: UTF8.self)
        #expect(encoded == "\"\(description)\"")
    }

    @Test("reports a malformed string with the quantity message")
    func decodingMalformedString() {
        let json = Data(#"{"cpu":"8 cpus","memory":"1Gi"}"#.utf8)
        do {
            _ = try JSONDecoder().decode(Resources.self, from: json)
            Issue.record("decoding \"8 cpus\" should fail")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.hasPrefix(#"invalid quantity "8 cpus": expected a number"#))
            #expect(context.codingPath.map(\.stringValue) == ["cpu"])
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("rejects a JSON value that is neither a string nor a number", arguments: ["true", "null", "[1]", "{}"])
    func decodingWrongType(_ json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Resources.self, from: Data(#"{"cpu":\#(json),"memory":"1Gi"}"#.utf8))
        }
    }
}
