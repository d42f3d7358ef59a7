import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TestSupport
import Testing

@testable import VectorSync

@Suite("OpenAI-compatible embedder")
struct OpenAIEmbedderTests {
    /// Counts requests so that the server can fail the first ones as a rate-limited endpoint would.
    actor RequestLog {
        var count = 0
        var batchSizes: [Int] = []
        func record(_ size: Int) -> Int {
            count += 1
            batchSizes.append(size)
            return count
        }
    }

    /// An endpoint with OpenAI's /v1/embeddings shape: 429 then 503 on the first two requests, 400 for a batch
    /// holding "REJECT", otherwise un-normalised hash vectors listed in reverse order with their indices.
    static func withEndpoint(_ body: (String, RequestLog) async throws -> Void) async throws {
        let log = RequestLog()
        let embedder = try HashEmbedder(dimension: 8)
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer sk-test" else {
                return Self.json(.unauthorized, #"{"error": {"message": "Incorrect API key provided"}}"#)
            }
            let data = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let inputs = object?["input"] as? [String] ?? []
            let number = await log.record(inputs.count)
            if number == 1 { return Response(status: .tooManyRequests, headers: [HTTPField.Name("retry-after")!: "0"]) }
            if number == 2 { return Self.json(.serviceUnavailable, #"{"error": {"message": "overloaded"}}"#) }
            if inputs.contains("REJECT") { return Self.json(.badRequest, #"{"error": {"message": "this input is not allowed"}}"#) }
            let entries = inputs.enumerated().reversed().map { index, text in
                #"{"object": "embedding", "index": \#(index), "embedding": [\#(embedder.vector(for: text)!.map { String($0 * 3) }.joined(separator: ","))]}"#
            }
            return Self.json(.ok, #"{"object": "list", "model": "test-model", "data": [\#(entries.joined(separator: ","))]}"#)
        }
        var logger = Logger(label: "openai-double")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestSetupError("the embeddings endpoint did not start") }
        do {
            try await body("http://127.0.0.1:\(port)/v1", log)
        } catch {
            await group.triggerGracefulShutdown()
            try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    @Test func batchesRetriesNormalisesAndKeepsTheInputOrder() async throws {
        try await Self.withEndpoint { url, log in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            let embedder = try OpenAIEmbedder(
                baseURL: url, model: "test-model", dimension: 8, apiKey: "sk-test", batchSize: 2, retryDelay: .milliseconds(10), http: http,
                logger: Logger(label: "test"))
            let texts = ["red lamp", "blue tent", "green kettle"]
            let vectors = try await embedder.embed(texts)
            let reference = try HashEmbedder(dimension: 8)
            for (text, vector) in zip(texts, vectors) {
                let expected = reference.vector(for: text)!
                #expect(zip(expected, vector).allSatisfy { abs($0 - $1) < 1e-5 })
            }
            // 429, 503, then the two batches of at most two.
            #expect(await log.batchSizes == [2, 2, 2, 1])

            await #expect(throws: EmbeddingError.rejected(index: 2, reason: "this input is not allowed")) {
                try await embedder.embed(["fine", "also fine", "REJECT"])
            }
            let unauthorised = try OpenAIEmbedder(
                baseURL: url, model: "test-model", dimension: 8, apiKey: "sk-wrong", http: http, logger: Logger(label: "test"))
            do {
                _ = try await unauthorised.embed(["x"])
                Issue.record("a wrong key was accepted")
            } catch {
                #expect("\(error)".contains("401"))
                #expect(!"\(error)".contains("sk-wrong"))
            }
            let wrongDimension = try OpenAIEmbedder(
                baseURL: url, model: "test-model", dimension: 16, apiKey: "sk-test", http: http, logger: Logger(label: "test"))
            await #expect(throws: OpenAIError.self) { try await wrongDimension.embed(["x"]) }
        }
    }

    @Test func theKeyComesFromAFileOrTheEnvironment() throws {
        let directory = try TemporaryDirectory()
        try "sk-from-file\n".write(toFile: directory.path + "/key", atomically: true, encoding: .utf8)
        #expect(
            try SecretValue.read(file: directory.path + "/key", environmentVariable: "OPENAI_API_KEY", field: "key", environment: ["OPENAI_API_KEY": "sk-env"])
                == "sk-from-file")
        #expect(try SecretValue.read(file: nil, environmentVariable: "OPENAI_API_KEY", field: "key", environment: ["OPENAI_API_KEY": "sk-env"]) == "sk-env")
        #expect(try SecretValue.read(file: nil, environmentVariable: "OPENAI_API_KEY", field: "key", environment: [:]) == nil)
        #expect(throws: ConfigurationError.self) {
            try SecretValue.read(file: directory.path + "/missing", environmentVariable: "OPENAI_API_KEY", field: "key", environment: [:])
        }
    }
}
