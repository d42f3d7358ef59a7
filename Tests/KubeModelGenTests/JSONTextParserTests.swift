import Foundation
import JSONValues
import Testing

/// `JSONValue.parse` reads JSON text itself; it must give exactly the values `JSONDecoder` gives, and refuse what
/// `JSONDecoder` refuses.
@Suite("JSON text parser")
struct JSONTextParserTests {
    private func decoded(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test(
        "the same value as JSONDecoder",
        arguments: [
            "null", "true", "false", "0", "-0", "-7", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "123456789012345678901234567890", "1.5", "-0.25", "1.0", "1e3", "1E-2", "2.5e+10", "0.1",
            #""""#, #""plain""#, #""tab\there, quote \" and slash \/ and backslash \\""#, #""caf\u00e9 \u00E9""#,
            #""\ud83d\ude00 and 😀""#, #""\b\f\n\r""#, "\"日本語\"", "[]", "{}", " [ 1 , \"a\" , false , null , 2.5 , {\"b\" : [true]} ] ",
            #"{"nested": {"deeper": {"deepest": [[[]]]}}}"#, "\n\t\r 42 \n",
        ])
    func sameValueAsJSONDecoder(text: String) throws {
        #expect(try JSONValue.parse(text) == decoded(text))
        #expect(try JSONValue.parse(Data(text.utf8)) == decoded(text))
    }

    @Test(
        "text that is not JSON is refused, as JSONDecoder refuses it",
        arguments: [
            "", " ", "nul", "tru", "[1 2]", "{\"a\" 1}", "{a: 1}", "01", "-", "1.", ".5", "1e", "+1",
            "\"unterminated", "\"bad \\x escape\"", "\"\\ud83d alone\"", "\"\\u12\"", "\"raw\u{01}control\"", "[1] trailing", "'single'",
            "NaN", "[", "{",
        ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: (any Error).self) { try decoded(text) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    /// Where JSONDecoder is lenient, the parser reads as Go's encoding/json (and so the API server) does.
    @Test func trailingCommasAreRefusedAndARepeatedMemberKeepsItsLastValue() throws {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse("[1,]") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(#"{"a": 1,}"#) }
        #expect(try JSONValue.parse(#"{"a": 1, "a": 2}"#) == ["a": 2])
    }

    @Test func aNumberBeyondDoubleIsRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse("1e400") }
    }

    @Test func invalidUTF8InAStringIsRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }
    }

    @Test func nestingDeeperThanTheLimitIsRefusedNotACrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
        let allowed = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try JSONValue.parse(allowed) == decoded(allowed))
    }

    @Test("the Kubernetes OpenAPI document reads the same both ways")
    func theReferenceOpenAPIDocumentReadsTheSame() throws {
        let reference = GeneratedCodeTests.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/kubernetes/swagger.json")
        let data = try Data(contentsOf: reference)
        #expect(try JSONValue.parse(data) == JSONDecoder().decode(JSONValue.self, from: data))
    }
}
