import Foundation

/// A WordPiece vocabulary: `vocab.txt`, one token a line, a token's id being its line number from 0.
public struct Vocabulary: Sendable {
    public let tokens: [String]
    private let ids: [String: Int32]

    public init(tokens: [String]) {
        self.tokens = tokens
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        // The first occurrence wins, as in Hugging Face's loader.
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(id) }
        self.ids = ids
    }

    public init(contentsOf url: URL) throws(MiniLMError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) {
                throw .missingFile(path: url.path, fix: "the model directory needs the vocabulary of the model's tokenizer")
            }
            throw .corruptFile(path: url.path, problem: "it is not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.last == "\r" ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        self.init(tokens: lines)
    }

    public var count: Int { tokens.count }

    public func id(of token: String) -> Int32? { ids[token] }

    /// The id of a token the tokenizer cannot work without.
    func requiredID(of token: String, file: String) throws(MiniLMError) -> Int32 {
        guard let id = ids[token] else {
            throw .corruptFile(path: file, problem: "it has no \(token) token")
        }
        return id
    }
}
