import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import KubeKit

@Suite("Client parts")
struct ClientPartsTests {
    @Test func backoffIsJitteredAndCapped() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1))
        for attempt in 1...10 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(1))
            for _ in 0..<50 {
                let wait = policy.backoff(afterAttempt: attempt, retryAfter: nil)
                #expect(wait >= .zero && wait <= ceiling)
            }
        }
        // The server's Retry-After wins, within the policy's limit.
        #expect(policy.backoff(afterAttempt: 1, retryAfter: .seconds(2)) == .seconds(2))
        #expect(policy.backoff(afterAttempt: 1, retryAfter: .seconds(600)) == policy.maxRetryAfter)
    }

    @Test func errorCategoriesComeFromReasonThenCode() {
        func error(_ code: Int, _ reason: String?) -> KubeAPIError {
            KubeAPIError(status: MetaV1.Status(code: Int32(code), reason: reason), code: code)
        }
        #expect(error(404, "NotFound").isNotFound)
        #expect(error(409, "AlreadyExists").isAlreadyExists)
        #expect(error(409, "Conflict").isConflict)
        #expect(error(410, "Expired").isGone)
        #expect(error(410, nil).isGone)
        #expect(error(422, "Invalid").isInvalid)
        #expect(error(429, nil).isTooManyRequests)
        #expect(error(503, nil).isRetriable)
        #expect(!error(409, "Conflict").isRetriable)
        #expect(!error(422, "Invalid").isRetriable)
    }

    @Test func errorDescriptionNamesTheFields() {
        let status = MetaV1.Status(
            code: 422,
            details: MetaV1.StatusDetails(
                causes: [MetaV1.StatusCause(field: "spec.replicas", message: "must be greater than or equal to 0")],
                kind: "StatefulSet", name: "db"),
            message: "StatefulSet.apps \"db\" is invalid", reason: "Invalid")
        let text = "\(KubeAPIError(status: status, code: 422))"
        #expect(text.contains("422 Invalid"))
        #expect(text.contains("spec.replicas: must be greater than or equal to 0"))
    }

    @Test func nonStatusBodiesBecomeAStatus() {
        let response = KubeClient.Response(
            code: 503, headers: HTTPHeaders([("Retry-After", "3")]), body: ByteBuffer(string: "<html>upstream unavailable</html>"))
        let error = KubeClient.apiError(from: response)
        #expect(error.code == 503)
        #expect(error.reason == "ServiceUnavailable")
        #expect(error.retryAfter == .seconds(3))
        #expect(error.isRetriable)
    }

    @Test func watchLinesSplitAcrossAnyChunking() {
        let events = #"{"type":"ADDED","object":{"a":1}}"# + "\n \r\n\n" + #"{"type":"DELETED","object":{"b":2}}"# + "\n"
        let bytes = Array(events.utf8)
        for chunkSize in [1, 2, 3, 7, bytes.count] {
            var splitter = WatchLineSplitter()
            var lines: [Data] = []
            var index = 0
            while index < bytes.count {
                let end = min(index + chunkSize, bytes.count)
                lines += splitter.append(ByteBuffer(bytes: bytes[index..<end]))
                index = end
            }
            #expect(
                lines.map { String(decoding: $0, as: UTF8.self) } == [
                    #"{"type":"ADDED","object":{"a":1}}"#, #"{"type":"DELETED","object":{"b":2}}"#,
                ])
        }
    }

    @Test func watchEventsDecodeEveryType() throws {
        let decoder = JSONDecoder()
        func event(_ json: String) throws -> WatchEvent<CoreV1.ConfigMap> {
            try decoder.decode(WatchEvent<CoreV1.ConfigMap>.self, from: Data(json.utf8))
        }
        let added = try event(#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}}"#)
        #expect(added.object?.metadata?.name == "a")
        guard
            case .bookmark(let version) = try event(
                #"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"42"}}}"#)
        else {
            Issue.record("expected a bookmark")
            return
        }
        #expect(version == "42")
        guard
            case .error(let status) = try event(
                #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}}"#)
        else {
            Issue.record("expected an error event")
            return
        }
        #expect(status.code == 410)
        #expect(throws: DecodingError.self) { try event(#"{"type":"RENAMED","object":{}}"#) }
    }

    /// The informers' lines take the one-pass parser; every type reads as the Codable path reads it.
    @Test func untypedWatchLinesReadAsTheCodablePathReadsThem() throws {
        let decoder = JSONDecoder()
        let lines = [
            #"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"7"},"spec":{"priority":-3,"overhead":{"cpu":0.5}}}}"#,
            #"{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","labels":{"x":"\u00e9\n"}},"status":{"ready":true,"ip":null}}}"#,
            #"{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a"}}}"#,
            #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"42"}}}"#,
            #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}}"#,
        ]
        func reading(_ event: WatchEvent<JSONValue>) -> JSONValue {
            switch event {
            case .added(let object): ["added": object]
            case .modified(let object): ["modified": object]
            case .deleted(let object): ["deleted": object]
            case .bookmark(let version): ["bookmark": .string(version)]
            case .error(let status): ["error": .string("\(status.code ?? 0) \(status.reason ?? "")")]
            }
        }
        for line in lines {
            let fast: WatchEvent<JSONValue> = try KubeClient.watchEvent(Data(line.utf8), decoder: decoder)
            let codable = try decoder.decode(WatchEvent<JSONValue>.self, from: Data(line.utf8))
            #expect(reading(fast) == reading(codable), "\(line)")
        }
        #expect(throws: DecodingError.self) {
            let _: WatchEvent<JSONValue> = try KubeClient.watchEvent(Data(#"{"type":"RENAMED","object":{}}"#.utf8), decoder: decoder)
        }
        #expect(throws: DecodingError.self) {
            let _: WatchEvent<JSONValue> = try KubeClient.watchEvent(Data(#"{"type":"ADDED","object":"#.utf8), decoder: decoder)
        }
    }

    @Test func queryValuesAreEscaped() throws {
        let client = try KubeClient(configuration: KubeClientConfiguration(server: "http://127.0.0.1:1"))
        defer { Task { try await client.shutdown() } }
        let request = KubeClient.Request(
            method: .GET, path: "/api/v1/pods", query: [("labelSelector", "app in (a,b),!canary")])
        #expect(client.target(for: request) == "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2C%21canary")
    }
}
