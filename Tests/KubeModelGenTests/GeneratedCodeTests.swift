import Foundation
import KubeModelGen
import Testing

/// The committed models must be exactly what the generator makes from the committed OpenAPI copy, so that nobody
/// edits generated code by hand and a generator change is always followed by a regeneration.
@Suite struct GeneratedCodeTests {
    /// The repository root, three levels above this file (`Tests/KubeModelGenTests/GeneratedCodeTests.swift`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func committedModelsMatchTheGenerator() throws {
        let swagger = try Data(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Sources/KubeSim/Resources/swagger.json"))
        let generatedDirectory = Self.repositoryRoot.appendingPathComponent("Sources/KubeKit/Generated")
        let expected = try ModelGenerator.generate(swagger: swagger)
        let hint = "the generated models are stale; run `\(ModelGenerator.regenerateCommand)` from the repository root"

        let committed = try FileManager.default.contentsOfDirectory(atPath: generatedDirectory.path)
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(committed == expected.map(\.name), "\(hint)")
        for file in expected {
            let onDisk = try? String(
                contentsOf: generatedDirectory.appendingPathComponent(file.name), encoding: .utf8)
            #expect(onDisk == file.contents, "\(file.name) differs: \(hint)")
        }
    }

    @Test func generationIsDeterministic() throws {
        let swagger = try Data(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Sources/KubeSim/Resources/swagger.json"))
        #expect(try ModelGenerator.generate(swagger: swagger) == ModelGenerator.generate(swagger: swagger))
    }
}
