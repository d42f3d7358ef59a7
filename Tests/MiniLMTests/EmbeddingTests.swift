import Foundation
import Testing

@testable import MiniLM

@Suite("MiniLM encoder")
struct EmbeddingTests {
    @Test("1,000 texts: cosine ≥ 0.9999 with sentence-transformers' own vectors for every one")
    func matchesSentenceTransformers() async throws {
        let embedder = try ModelFixtures.embedder()
        let texts = try ModelFixtures.embeddingTexts()
        let reference = try ModelFixtures.referenceEmbeddings(dimension: 384)
        #expect(texts.count == 1000 && reference.count == 1000)
        let vectors = await embedder.embedInBackground(texts)
        let cosines = zip(vectors, reference).map { ModelFixtures.cosine($0, $1) }
        let worst = cosines.enumerated().min { $0.element < $1.element }!
        print("MiniLM vs sentence-transformers: lowest cosine \(worst.element) (text \(worst.offset)), mean \(cosines.reduce(0, +) / Double(cosines.count))")
        #expect(worst.element >= 0.9999, "text \(worst.offset): \(texts[worst.offset].prefix(80))")
        for vector in vectors {
            #expect(vector.count == 384)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
    }

    @Test("a text's vector does not depend on the batch it is in")
    func batchIndependence() async throws {
        let embedder = try ModelFixtures.embedder()
        let texts = Array(try ModelFixtures.embeddingTexts().prefix(40))
        let together = await embedder.embedInBackground(texts)
        for (index, text) in texts.enumerated() {
            let alone = await embedder.embedInBackground([text])[0]
            #expect(ModelFixtures.cosine(alone, together[index]) > 0.999_999, "text \(index)")
        }
        #expect(await embedder.embedInBackground([]).isEmpty)
    }

    @Test("batches group texts of similar length within the token budget, each text once")
    func batching() {
        let lengths = [10, 200, 12, 180, 11, 3000, 5]
        let batches = SentenceEmbedder.batches(lengths: lengths, tokensPerBatch: 400)
        #expect(batches == [[5], [1, 3, 2], [4, 0, 6]])
        #expect(batches.flatMap { $0 }.sorted() == Array(lengths.indices))
    }

    @Test("exp within 2 ulp and erf within 5·10⁻⁷ of libm's")
    func kernels() {
        for x in stride(from: Float(-20), through: 20, by: 0.01) {
            #expect(abs(Kernels.exp(x) - Foundation.exp(x)) <= 2e-7 * Foundation.exp(x))
            #expect(abs(Kernels.erf(x) - Foundation.erf(x)) <= 5e-7)
        }
    }
}
