import AsyncHTTPClient
import Logging

/// Which embedder Emu uses, as its flags say: `hash` (no model; tests and demos), `openai` (any
/// OpenAI-compatible `/v1/embeddings` endpoint, its key from a file or `OPENAI_API_KEY`) or `minilm`
/// (all-MiniLM-L6-v2 in this process, from `--model-dir`).
public struct EmbedderSettings: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case hash, openai, minilm
    }

    public var kind: Kind
    public var dimension: Int
    public var openAIBaseURL: String
    public var model: String
    public var apiKeyFile: String?
    /// The minilm embedder's model directory.
    public var modelDirectory: String

    public init(
        kind: String, dimension: Int, openAIBaseURL: String = "https://api.openai.com", model: String = "", apiKeyFile: String? = nil,
        modelDirectory: String = ""
    ) throws(ConfigurationError) {
        guard let parsed = Kind(rawValue: kind) else {
            throw ConfigurationError(field: "--embedder", problem: "\"\(kind)\" is not an embedder", fix: "use hash, openai or minilm")
        }
        if parsed == .openai, model.isEmpty {
            throw ConfigurationError(field: "--openai-model", problem: "the openai embedder needs a model", fix: "give e.g. text-embedding-3-small")
        }
        self.kind = parsed
        self.dimension = dimension
        self.openAIBaseURL = openAIBaseURL
        self.model = model
        self.apiKeyFile = apiKeyFile.flatMap { $0.isEmpty ? nil : $0 }
        self.modelDirectory = modelDirectory
    }

    public func makeEmbedder(http: HTTPClient, environment: [String: String], logger: Logger) throws -> any Embedder {
        switch kind {
        case .hash:
            return try HashEmbedder(dimension: dimension)
        case .openai:
            return try OpenAIEmbedder(
                baseURL: openAIBaseURL, model: model, dimension: dimension,
                apiKey: try SecretValue.read(file: apiKeyFile, environmentVariable: "OPENAI_API_KEY", field: "--openai-api-key-file", environment: environment),
                http: http, logger: logger)
        case .minilm:
            return try MiniLMEmbedder(modelDirectory: modelDirectory, dimension: dimension)
        }
    }
}
