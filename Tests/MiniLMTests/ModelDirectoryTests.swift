import Foundation
import Testing

@testable import MiniLM

@Suite("MiniLM model directory")
struct ModelDirectoryTests {
    /// A copy of the model directory (links to the real files) with one file replaced, removed on return.
    static func withModifiedModel(_ file: String, contents: Data?, _ body: (URL) throws -> Void) throws {
        let source = try ModelFixtures.modelDirectory()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("minilm-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in ["config.json", "sentence_bert_config.json", "1_Pooling/config.json", "vocab.txt", "model.safetensors"] {
            let destination = copy.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            if name == file {
                if let contents { try contents.write(to: destination) }
            } else {
                try FileManager.default.createSymbolicLink(at: destination, withDestinationURL: source.appendingPathComponent(name))
            }
        }
        try body(copy)
    }

    static func loadError(_ directory: URL) -> MiniLMError? {
        do {
            _ = try SentenceEmbedder(modelDirectory: directory)
            return nil
        } catch {
            return error
        }
    }

    @Test("a missing directory or weights file is named, with what to do")
    func missingFiles() throws {
        let error = Self.loadError(URL(fileURLWithPath: "/nonexistent/minilm"))
        #expect(error?.description.hasPrefix("/nonexistent/minilm is missing: point the embedder at the model's directory") == true)
        try Self.withModifiedModel("model.safetensors", contents: nil) { directory in
            guard case .missingFile(let path, _) = Self.loadError(directory) else {
                Issue.record("loaded without weights")
                return
            }
            #expect(path.hasSuffix("/model.safetensors"))
        }
    }

    @Test("truncated or garbled weights are refused as corrupt, naming the file")
    func corruptWeights() throws {
        let weights = try Data(contentsOf: ModelFixtures.modelDirectory().appendingPathComponent("model.safetensors"))
        for broken in [weights.prefix(4), weights.prefix(100_000), Data(repeating: 0x7B, count: 64)] {
            try Self.withModifiedModel("model.safetensors", contents: Data(broken)) { directory in
                let error = Self.loadError(directory)
                guard case .corruptFile(let path, _) = error else {
                    Issue.record("\(String(describing: error))")
                    return
                }
                #expect(path.hasSuffix("/model.safetensors"))
                #expect(error!.description.contains("is corrupt"))
            }
        }
    }

    @Test("a vocabulary or configuration that does not fit the model is refused, naming the file and the field")
    func mismatchedFiles() throws {
        try Self.withModifiedModel("vocab.txt", contents: Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\n".utf8)) { directory in
            let error = Self.loadError(directory)
            #expect(error?.description.contains("vocab.txt is corrupt: it has 4 tokens but config.json's vocab_size is 30522") == true)
        }
        let config = try String(contentsOf: ModelFixtures.modelDirectory().appendingPathComponent("config.json"), encoding: .utf8)
        try Self.withModifiedModel("config.json", contents: Data(config.replacingOccurrences(of: "\"gelu\"", with: "\"relu\"").utf8)) { directory in
            let error = Self.loadError(directory)
            guard case .unsupportedModel(let path, let problem) = error else {
                Issue.record("\(String(describing: error))")
                return
            }
            #expect(path.hasSuffix("/config.json") && problem.contains("hidden_act is relu"))
        }
        try Self.withModifiedModel(
            "config.json", contents: Data(config.replacingOccurrences(of: "\"intermediate_size\": 1536", with: "\"intermediate_size\": 1024").utf8)
        ) { directory in
            let error = Self.loadError(directory)
            #expect(
                error?.description.contains("tensor encoder.layer.0.intermediate.dense.weight has shape [1536, 384], not [1024, 384]") == true,
                "\(String(describing: error))")
        }
    }
}
