import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TestSupport
import Testing

@testable import KubeKit

/// A server that answers from a script of responses per path, to see exactly how often the client tries. KubeSim
/// answers correctly; these tests need a server that misbehaves on cue.
private actor ScriptedAnswers {
    var scripts: [String: [(HTTPResponse.Status, [String: String])]] = [:]
    var attempts: [String: Int] = [:]
    var seenAuthorizations: [String] = []

    func set(_ path: String, _ answers: [(HTTPResponse.Status, [String: String])]) { scripts[path] = answers }

    func next(for path: String, authorization: String?) -> (HTTPResponse.Status, [String: String]) {
        attempts[path, default: 0] += 1
        seenAuthorizations.append(authorization ?? "")
        guard var script = scripts[path], !script.isEmpty else { return (.ok, [:]) }
        let answer = script.removeFirst()
        if script.isEmpty, answer.0 != .ok {
            script = [answer]  // the last failure repeats
        }
        scripts[path] = script
        return answer
    }

    func count(_ path: String) -> Int { attempts[path, default: 0] }
}

/// Runs `body` with a client and shuts the client down however `body` ends.
private func withClient(
    _ configuration: KubeClientConfiguration, _ body: (KubeClient) async throws -> Void
) async throws {
    let client = try KubeClient(configuration: configuration)
    do {
        try await body(client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

private func withScriptedServer(
    _ onRequest: (@Sendable (String?) -> Void)? = nil,
    _ body: (ScriptedAnswers, String) async throws -> Void
) async throws {
    let answers = ScriptedAnswers()
    let router = Router()
    router.get("**") { request, _ in try await respond(request) }
    router.post("**") { request, _ in try await respond(request) }
    @Sendable func respond(_ request: Request) async throws -> Response {
        let authorization = request.headers[.authorization]
        onRequest?(authorization)
        let (status, headers) = await answers.next(for: request.uri.path, authorization: authorization)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        let body: String
        if status == .ok {
            body = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"flaky","namespace":"default"}}"#
        } else {
            body =
                #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"scripted","reason":"\#(status.code == 429 ? "TooManyRequests" : "InternalError")","code":\#(status.code)}"#
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    var logger = Logger(label: "scripted-server")
    logger.logLevel = .critical
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let application = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }, logger: logger)
    let task = Task { try await application.run() }
    var iterator = ports.makeAsyncIterator()
    let port = try #require(await iterator.next())
    do {
        try await body(answers, "http://127.0.0.1:\(port)")
    } catch {
        task.cancel()
        throw error
    }
    task.cancel()
}

@Suite("Client retries")
struct ClientRetryTests {
    let path = "/api/v1/namespaces/default/configmaps/flaky"
    let fastRetries = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(5))

    @Test func readsRetryServerErrorsUntilTheyPass() async throws {
        try await withScriptedServer { answers, url in
            await answers.set(path, [(.serviceUnavailable, [:]), (.internalServerError, [:]), (.ok, [:])])
            try await withClient(.init(server: url, retryPolicy: fastRetries)) { client in
                let configMap = try await client.get(CoreV1.ConfigMap.self, name: "flaky")
                #expect(configMap.metadata?.name == "flaky")
                #expect(await answers.count(path) == 3)
            }
        }
    }

    @Test func readsHonourRetryAfterOn429() async throws {
        try await withScriptedServer { answers, url in
            await answers.set(path, [(.tooManyRequests, ["Retry-After": "1"]), (.ok, [:])])
            try await withClient(.init(server: url, retryPolicy: fastRetries)) { client in
                _ = try await client.get(CoreV1.ConfigMap.self, name: "flaky")
                #expect(await answers.count(path) == 2)
            }
        }
    }

    @Test func readsGiveUpAfterMaxAttempts() async throws {
        try await withScriptedServer { answers, url in
            await answers.set(path, [(.internalServerError, [:])])
            try await withClient(.init(server: url, retryPolicy: fastRetries)) { client in
                await #expect {
                    try await client.get(CoreV1.ConfigMap.self, name: "flaky")
                } throws: { error in
                    (error as? KubeAPIError)?.code == 500
                }
                #expect(await answers.count(path) == 4)
            }
        }
    }

    @Test func writesAreNeverRetriedBlindly() async throws {
        try await withScriptedServer { answers, url in
            let collection = "/api/v1/namespaces/default/configmaps"
            await answers.set(collection, [(.serviceUnavailable, [:]), (.ok, [:])])
            try await withClient(.init(server: url, retryPolicy: fastRetries)) { client in
                await #expect(throws: KubeAPIError.self) {
                    try await client.create(CoreV1.ConfigMap(metadata: .init(name: "flaky", namespace: "default")))
                }
                #expect(await answers.count(collection) == 1)
            }
        }
    }

    @Test func unreachableServerIsATransportErrorAfterRetries() async throws {
        // A port that was free a moment ago and has no listener now.
        try await withClient(.init(server: "http://127.0.0.1:9", retryPolicy: fastRetries)) { client in
            await #expect {
                try await client.get(CoreV1.ConfigMap.self, name: "any")
            } throws: { error in
                guard case .transport(let server, _) = error as? KubeClientError else { return false }
                return server == "http://127.0.0.1:9"
            }
        }
    }

    @Test func unauthorizedRereadsARotatedTokenOnceAndRetriesEvenAWrite() async throws {
        let directory = try TemporaryDirectory()
        let tokenPath = directory.path + "/token"
        try "expired-token".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        // The kubelet rotates the projected token while the first request is in flight.
        let rotate: @Sendable (String?) -> Void = { authorization in
            if authorization == "Bearer expired-token" {
                try? "fresh-token".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            }
        }
        try await withScriptedServer(rotate) { answers, url in
            let collection = "/api/v1/namespaces/default/configmaps"
            await answers.set(collection, [(.unauthorized, [:]), (.ok, [:])])
            try await withClient(.init(server: url, credentials: .tokenFile(path: tokenPath), retryPolicy: .none)) {
                client in
                _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "flaky", namespace: "default")))
                #expect(await answers.count(collection) == 2)
                #expect(await answers.seenAuthorizations == ["Bearer expired-token", "Bearer fresh-token"])
            }
        }
    }
}
