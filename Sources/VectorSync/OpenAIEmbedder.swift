import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// The `openai` embedder: any OpenAI-compatible `POST {baseURL}/embeddings` (OpenAI, TEI, vLLM, Ollama), in
/// batches of `batchSize` inputs, retrying 429 and 5xx answers with backoff (honouring `Retry-After`). A 400 for a
/// batch is narrowed down to the text the server refuses, so that only that row is dead-lettered.
public struct OpenAIEmbedder: Embedder {
    public let model: String
    public let dimension: Int
    public let baseURL: String
    public let batchSize: Int
    public let maxAttempts: Int
    private let retryDelay: Duration
    private let apiKey: String?
    private let http: HTTPClient
    private let logger: Logger

    public init(
        baseURL: String, model: String, dimension: Int, apiKey: String?, batchSize: Int = 64, maxAttempts: Int = 5,
        retryDelay: Duration = .seconds(1), http: HTTPClient, logger: Logger
    ) throws(ConfigurationError) {
        guard let components = URLComponents(string: baseURL), ["http", "https"].contains(components.scheme ?? ""), components.host != nil else {
            throw ConfigurationError(
                field: "embedder.openai.baseURL", problem: "\"\(baseURL)\" is not an http(s) URL", fix: "write e.g. https://api.openai.com/v1")
        }
        guard !model.isEmpty else {
            throw ConfigurationError(field: "embedder.model", problem: "no model is named", fix: "name the endpoint's model, e.g. text-embedding-3-small")
        }
        guard (1...65_536).contains(dimension) else {
            throw ConfigurationError(
                field: "embedder.dimension", problem: "\(dimension) is out of range", fix: "give the model's dimension (1536 for text-embedding-3-small)")
        }
        guard (1...2048).contains(batchSize) else {
            throw ConfigurationError(field: "embedder.batchSize", problem: "\(batchSize) is out of range", fix: "use 1 to 2048")
        }
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.dimension = dimension
        self.apiKey = apiKey
        self.batchSize = batchSize
        self.maxAttempts = max(1, maxAttempts)
        self.retryDelay = retryDelay
        self.http = http
        self.logger = logger
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        for start in stride(from: 0, to: texts.count, by: batchSize) {
            let batch = Array(texts[start..<min(start + batchSize, texts.count)])
            do {
                vectors += try await request(batch)
            } catch OpenAIError.refused(let status, let message) where status == 400 {
                // Find the text the server refuses; report it by its index in the whole call.
                for (offset, text) in batch.enumerated() {
                    do {
                        vectors += try await request([text])
                    } catch OpenAIError.refused(400, let reason) {
                        throw EmbeddingError.rejected(index: start + offset, reason: reason)
                    }
                }
                throw OpenAIError.refused(status: status, message: message)
            }
        }
        return vectors
    }

    private func request(_ inputs: [String]) async throws -> [[Float]] {
        let body = JSONValue.object(["model": .string(model), "input": .array(inputs.map { .string($0) })]).canonicalJSON
        var attempt = 1
        while true {
            var request = HTTPClientRequest(url: baseURL + "/embeddings")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            if let apiKey { request.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await http.execute(request, timeout: .seconds(120), logger: logger)
            let text = String(buffer: try await response.body.collect(upTo: 256 << 20))
            let status = Int(response.status.code)
            if status == 200 { return try vectors(from: text, count: inputs.count) }
            let message = Self.errorMessage(text)
            guard status == 429 || status >= 500, attempt < maxAttempts else { throw OpenAIError.refused(status: status, message: message) }
            let delay =
                response.headers.first(name: "retry-after").flatMap(Double.init).map { Duration.milliseconds(Int($0 * 1000)) }
                ?? retryDelay * (1 << (attempt - 1))
            logger.warning("embedding endpoint answered \(status); retrying", metadata: ["attempt": "\(attempt)", "retryIn": "\(delay)"])
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }

    private func vectors(from text: String, count: Int) throws -> [[Float]] {
        guard case .object(let fields) = try JSONValue.parse(text), case .array(let data) = fields["data"] ?? .null else {
            throw OpenAIError.unexpectedAnswer("no `data` array")
        }
        var byIndex: [Int: [Float]] = [:]
        for (position, item) in data.enumerated() {
            guard case .object(let entry) = item, case .array(let numbers) = entry["embedding"] ?? .null else {
                throw OpenAIError.unexpectedAnswer("an entry without an `embedding` array")
            }
            let index = entry["index"].flatMap { $0.intValue.map { Int($0) } } ?? position
            let vector = numbers.compactMap { $0.doubleValue.map { Float($0) } }
            guard vector.count == dimension else {
                throw OpenAIError.unexpectedAnswer("a \(vector.count)-dimensional vector where embedder.dimension is \(dimension)")
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            byIndex[index] = norm > 0 ? vector.map { $0 / norm } : vector
        }
        let ordered = (0..<count).compactMap { byIndex[$0] }
        guard ordered.count == count else { throw OpenAIError.unexpectedAnswer("\(byIndex.count) vectors for \(count) inputs") }
        return ordered
    }

    static func errorMessage(_ body: String) -> String {
        if case .object(let fields) = try? JSONValue.parse(body), case .object(let error) = fields["error"] ?? .null,
            case .string(let message) = error["message"] ?? .null
        {
            return message
        }
        return String(body.prefix(300))
    }
}

public enum OpenAIError: Error, CustomStringConvertible {
    case refused(status: Int, message: String)
    case unexpectedAnswer(String)

    public var description: String {
        switch self {
        case .refused(let status, let message): "the embedding endpoint answered \(status): \(message)"
        case .unexpectedAnswer(let problem): "the embedding endpoint's answer is not OpenAI's format: \(problem)"
        }
    }
}
