import Foundation
import Testing

@testable import MiniLM

@Suite("WordPiece tokenizer")
struct TokenizerTests {
    @Test("ids identical to the Hugging Face tokenizer's for every text of the committed corpus")
    func matchesHuggingFace() throws {
        let tokenizer = try ModelFixtures.embedder().tokenizer
        let corpus = try ModelFixtures.tokenizerCorpus()
        #expect(corpus.count == 1000)
        // The corpus must hold the hard cases, or matching it proves little.
        #expect(corpus.contains { $0.ids.count == 256 }, "a text truncated at 256 tokens")
        #expect(corpus.contains { $0.text.unicodeScalars.contains { BertNormalizer.isCJKIdeograph($0) } }, "CJK")
        #expect(corpus.contains { $0.text.unicodeScalars.contains { $0.properties.isEmojiPresentation } }, "emoji")
        #expect(corpus.contains { $0.text.contains("é") }, "accents")
        var mismatches: [String] = []
        for entry in corpus {
            let ids = tokenizer.encode(entry.text)
            if ids != entry.ids { mismatches.append("\(entry.text.debugDescription.prefix(80)): \(ids) != \(entry.ids)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) texts differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    /// A vocabulary small enough to follow by hand.
    static let tokenizer = try! WordPieceTokenizer(
        vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", ",", "!", "中", "cafe", "a"]),
        maximumLength: 6)

    @Test("greedy longest pieces, a word with an unknown part is one [UNK], punctuation and CJK split off")
    func wordPieces() {
        #expect(Self.tokenizer.encode("unaffable") == [2, 5, 6, 7, 3])
        #expect(Self.tokenizer.encode("unaffablex") == [2, 1, 3])
        #expect(Self.tokenizer.encode("UN,中!") == [2, 5, 9, 11, 10, 3])
        #expect(Self.tokenizer.encode("Café") == [2, 12, 3])
    }

    @Test("truncated to the maximum length with [SEP] kept; special tokens in the text kept whole")
    func truncationAndSpecialTokens() {
        #expect(Self.tokenizer.encode("a a a a a a a") == [2, 13, 13, 13, 13, 3])
        #expect(Self.tokenizer.encode("a[SEP]a [MASK") == [2, 13, 3, 13, 1, 3])
        #expect(Self.tokenizer.encode(String(repeating: "a", count: 101)) == [2, 1, 3])
        #expect(Self.tokenizer.encode("") == [2, 3])
    }
}
