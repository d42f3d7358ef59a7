import Foundation

/// BERT's uncased WordPiece tokenizer, giving the ids of Hugging Face's fast `BertTokenizer` for the same vocabulary:
/// special tokens written in the text are kept whole, the rest normalised (`BertNormalizer`), split at whitespace
/// and around each punctuation character, and each word cut greedily into the longest pieces the vocabulary has
/// (`##` marking a piece that continues a word); a word with a part the vocabulary lacks, or longer than 100
/// characters, is `[UNK]`. The sequence is `[CLS]`, at most `maximumLength - 2` pieces, `[SEP]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let maximumLength: Int
    public let classifierID: Int32
    public let separatorID: Int32
    public let unknownID: Int32
    private let specialTokens: [(text: String, id: Int32)]

    static let maximumWordLength = 100

    public init(vocabulary: Vocabulary, maximumLength: Int, vocabularyFile: String = "vocab.txt") throws(MiniLMError) {
        self.vocabulary = vocabulary
        self.maximumLength = max(2, maximumLength)
        classifierID = try vocabulary.requiredID(of: "[CLS]", file: vocabularyFile)
        separatorID = try vocabulary.requiredID(of: "[SEP]", file: vocabularyFile)
        unknownID = try vocabulary.requiredID(of: "[UNK]", file: vocabularyFile)
        specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { token in
            vocabulary.id(of: token).map { (token, $0) }
        }
    }

    /// The model's input ids for one text.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classifierID]
        let budget = maximumLength - 1
        for segment in splitAtSpecialTokens(text) {
            switch segment {
            case .special(let id):
                ids.append(id)
            case .text(let part):
                for word in Self.words(BertNormalizer.normalize(part)) {
                    appendPieces(of: word, to: &ids)
                    if ids.count >= budget { break }
                }
            }
            if ids.count >= budget { break }
        }
        if ids.count > budget { ids.removeLast(ids.count - budget) }
        ids.append(separatorID)
        return ids
    }

    enum Segment {
        case text(Substring)
        case special(Int32)
    }

    /// Hugging Face matches its special tokens in the raw bytes of the text before normalising the rest.
    func splitAtSpecialTokens(_ text: String) -> [Segment] {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "[")) else { return [.text(text[...])] }
        var segments: [Segment] = []
        var textStart = 0
        var position = 0
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "["),
                let match = specialTokens.first(where: { bytes[position...].starts(with: $0.text.utf8) })
            {
                if textStart < position { segments.append(.text(Self.slice(text, textStart, position))) }
                segments.append(.special(match.id))
                position += match.text.utf8.count
                textStart = position
            } else {
                position += 1
            }
        }
        if textStart < bytes.count { segments.append(.text(Self.slice(text, textStart, bytes.count))) }
        return segments
    }

    /// A part of the text between two UTF-8 offsets that lie next to ASCII brackets, so on scalar boundaries.
    static func slice(_ text: String, _ start: Int, _ end: Int) -> Substring {
        let utf8 = text.utf8
        return text[utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end)]
    }

    /// Words: runs between whitespace, with every punctuation character a word of its own.
    static func words(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (index, scalar) in scalars.enumerated() {
            let isSpace = BertNormalizer.isWhitespace(scalar)
            if isSpace || BertNormalizer.isPunctuation(scalar) {
                if start < index { words.append(scalars[start..<index]) }
                if !isSpace { words.append(scalars[index...index]) }
                start = index + 1
            }
        }
        if start < scalars.count { words.append(scalars[start...]) }
        return words
    }

    func appendPieces(of word: ArraySlice<Unicode.Scalar>, to ids: inout [Int32]) {
        guard word.count <= Self.maximumWordLength else {
            ids.append(unknownID)
            return
        }
        var pieces: [Int32] = []
        var start = word.startIndex
        while start < word.endIndex {
            var end = word.endIndex
            var found: Int32?
            while start < end {
                var candidate = start == word.startIndex ? "" : "##"
                candidate.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary.id(of: candidate) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownID)
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
