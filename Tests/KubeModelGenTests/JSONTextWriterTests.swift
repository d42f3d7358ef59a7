import Foundation
import JSONValues
import Testing

/// `JSONValue.jsonData` writes JSON text itself; it must write exactly the bytes `JSONEncoder` writes with
/// `.withoutEscapingSlashes` (and `.sortedKeys`), because the operator's applied-state hashes are digests of that text:
/// a different byte would re-apply every object the operator manages after an upgrade.
@Suite("JSON text writer")
struct JSONTextWriterTests {
    private func encoded(_ value: JSONValue, sortedKeys: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = sortedKeys ? [.sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    @Test(
        "the bytes JSONEncoder writes, keys sorted",
        arguments: [
            JSONValue.null, true, false, 0, -7, .int(.max), .int(.min), 1.5, -0.25, 1.0, 1e20, 1.5e-7, 123456789012345678.0, 0.1,
            "", "plain", "tab\there, quote \" and slash / and backslash \\", "café 😀 日本語", "\u{8}\u{c}\n\r\u{1}\u{1f}\u{7f}",
            [], [:], [1, "a", false, nil, 2.5, ["b": [true]]],
            [
                "a10": 1, "a9": 2, "B": 3, "a": 4, "app.kubernetes.io/name": 5, "app_x": 6, "Z": 7, "é": 8, "app-x": 9,
                "nested": ["deeper": ["deepest": [[[]]]], "k:{\"name\":\"x\"}": "v"],
            ],
        ])
    func sameBytesAsJSONEncoder(value: JSONValue) throws {
        #expect(value.jsonData(sortedKeys: true) == (try encoded(value, sortedKeys: true)))
        #expect(value.canonicalJSON == String(decoding: try encoded(value, sortedKeys: true), as: UTF8.self))
    }

    @Test func unsortedTextReadsBackAsTheSameValue() throws {
        let value: JSONValue = ["metadata": ["name": "a", "labels": ["x/y": "1"]], "data": ["k": "line\nbreak"], "n": 3, "f": 0.5]
        #expect(try JSONValue.parse(value.jsonData(sortedKeys: false)) == value)
    }
}
