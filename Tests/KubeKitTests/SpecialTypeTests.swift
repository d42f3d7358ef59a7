import Foundation
import KubeKit
import Testing

@Suite struct IntOrStringTests {
    @Test func decodesAndEncodesBothForms() throws {
        let values = try JSONDecoder().decode([IntOrString].self, from: Data(#"[8080,"http","25%"]"#.utf8))
        #expect(values == [.int(8080), .string("http"), .string("25%")])
        #expect(String(decoding: try JSONEncoder().encode(values), as: UTF8.self) == #"[8080,"http","25%"]"#)
    }

    @Test func literalsPickTheirCase() {
        let port: IntOrString = 6333
        let named: IntOrString = "tcp-qdrant"
        #expect(port == .int(6333))
        #expect(named == .string("tcp-qdrant"))
        #expect(port.description == "6333")
    }

    @Test func rejectsOtherJSON() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IntOrString].self, from: Data("[true]".utf8)) }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([IntOrString].self, from: Data("[4294967296]".utf8))
        }
    }
}

@Suite struct TimeTests {
    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode([T].self, from: Data("[\"\(text)\"]".utf8))[0]
    }

    private func encode<T: Encodable>(_ value: T) throws -> String {
        let json = String(decoding: try JSONEncoder().encode([value]), as: UTF8.self)
        return String(json.dropFirst(2).dropLast(2))
    }

    @Test func timeRoundTripsWholeSeconds() throws {
        let time = try decode(MetaV1.Time.self, "2006-01-02T15:04:05Z")
        #expect(try encode(time) == "2006-01-02T15:04:05Z")
        #expect(time.date == Date(timeIntervalSince1970: 1_136_214_245))
    }

    @Test func timeAcceptsFractionsAndOffsets() throws {
        let utc = try decode(MetaV1.Time.self, "2024-02-29T23:59:59Z")
        #expect(try decode(MetaV1.Time.self, "2024-03-01T01:59:59+02:00") == utc)
        #expect(try decode(MetaV1.Time.self, "2024-02-29T18:29:59-05:30") == utc)
        let fractional = try decode(MetaV1.Time.self, "2024-02-29T23:59:59.987654Z")
        #expect(fractional > utc)
        // The API's Time has whole seconds: the fraction is dropped on the way out.
        #expect(try encode(fractional) == "2024-02-29T23:59:59Z")
    }

    @Test func timeRejectsWhatIsNotRFC3339() {
        for text in ["2024-02-30T00:00:00Z", "2024-02-29 23:59:59Z", "2024-02-29T23:59:59", "2024-02-29T23:59:59.Z", ""] {
            #expect(throws: DecodingError.self, "\(text)") { try decode(MetaV1.Time.self, text) }
        }
    }

    @Test func microTimeKeepsSixDigits() throws {
        let time = try decode(MetaV1.MicroTime.self, "2026-11-20T09:14:03.123456Z")
        #expect(try encode(time) == "2026-11-20T09:14:03.123456Z")
        #expect(try encode(decode(MetaV1.MicroTime.self, "2026-11-20T09:14:03Z")) == "2026-11-20T09:14:03.000000Z")
        #expect(try encode(decode(MetaV1.MicroTime.self, "1969-12-31T23:59:59.5Z")) == "1969-12-31T23:59:59.500000Z")
    }

    @Test func timesOrderByInstant() throws {
        let earlier = try decode(MetaV1.Time.self, "2026-01-01T00:00:00Z")
        let later = try decode(MetaV1.Time.self, "2026-01-01T00:00:01Z")
        #expect(earlier < later)
        #expect(MetaV1.Time(rfc3339: "not a time") == nil)
    }
}
