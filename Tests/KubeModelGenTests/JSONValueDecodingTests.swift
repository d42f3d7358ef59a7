import Foundation
import JSONValues
import Testing

@Suite("JSONValue decoding")
struct JSONValueDecodingTests {
    private func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func everyKindDecodesAsItselfWhateverItLooksLike() throws {
        #expect(try decode("null") == .null)
        #expect(try decode("true") == .bool(true))
        #expect(try decode("false") == .bool(false))
        #expect(try decode("0") == .int(0))
        #expect(try decode("-7") == .int(-7))
        #expect(try decode("9223372036854775807") == .int(Int64.max))
        #expect(try decode("1.5") == .double(1.5))
        #expect(try decode(#""true""#) == .string("true"))
        #expect(try decode(#""12""#) == .string("12"))
        #expect(try decode("[]") == .array([]))
        #expect(try decode("{}") == .object([:]))
        #expect(try decode(#"[1, "a", false, null, 2.5, {"b": [true]}]"#) == [1, "a", false, nil, 2.5, ["b": [true]]])
    }

    @Test func aNumberAbove2To53KeepsEveryDigitThroughARoundTrip() throws {
        let value = try decode(#"{"resourceVersion": 9007199254740993}"#)
        #expect(value == ["resourceVersion": .int(9_007_199_254_740_993)])
        #expect(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)) == value)
    }
}
