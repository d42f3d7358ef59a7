/// The `hash` embedder: feature hashing of the lower-cased words and adjacent word pairs into `dimension` signed
/// buckets, L2-normalised. No model, deterministic across processes and machines (FNV-1a, not Swift's seeded
/// `Hasher`); texts sharing words land near each other, which is enough for tests and demos.
public struct HashEmbedder: Embedder {
    public let dimension: Int
    public var model: String { "vectorsync-hash-v1" }

    public init(dimension: Int) throws(ConfigurationError) {
        guard (1...65_536).contains(dimension) else {
            throw ConfigurationError(field: "embedder.dimension", problem: "\(dimension) is out of range", fix: "use 1 to 65536 (384 is common)")
        }
        self.dimension = dimension
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        try texts.enumerated().map { index, text in
            guard let vector = vector(for: text) else {
                throw EmbeddingError.rejected(index: index, reason: "it has no words")
            }
            return vector
        }
    }

    /// Nil for a text without words.
    public func vector(for text: String) -> [Float]? {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }
        guard !words.isEmpty else { return nil }
        var vector = [Float](repeating: 0, count: dimension)
        func add(_ feature: String, weight: Float) {
            let hash = Self.fnv1a(feature)
            let bucket = Int(hash % UInt64(dimension))
            vector[bucket] += (hash >> 63) == 0 ? weight : -weight
        }
        for word in words { add("w:" + word, weight: 1) }
        for (first, second) in zip(words, words.dropFirst()) { add("p:" + first + " " + second, weight: 0.5) }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Every feature cancelling out is possible in tiny dimensions; a unit vector keeps the output normalised.
        guard norm > 0 else {
            vector[0] = 1
            return vector
        }
        return vector.map { $0 / norm }
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
