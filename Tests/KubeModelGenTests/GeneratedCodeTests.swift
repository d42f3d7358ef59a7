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

    @Test("KubeSim's protobuf schema is what `kube-model-gen proto` makes from the reference generated.proto files")
    func committedProtobufSchemaMatchesTheGenerator() throws {
        let protoRoot = Self.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/kubernetes/proto")
        try #require(FileManager.default.fileExists(atPath: protoRoot.path), "../shared/reference/kubernetes/proto is missing beside the repository")
        let swagger = try Data(contentsOf: Self.repositoryRoot.appendingPathComponent("Sources/KubeSim/Resources/swagger.json"))
        let expected = try ProtoSchemaGenerator.generate(protoRoot: protoRoot, swagger: swagger)
        let committed = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Sources/KubeSim/Resources/protobuf-schema.json"), encoding: .utf8)
        #expect(committed == expected, "the protobuf schema is stale; run `swift run kube-model-gen proto` from the repository root")
        #expect(expected.contains(#""name": "uid""#), "a proto name that differs in case takes the JSON name")
    }

    @Test func generationIsDeterministic() throws {
        let swagger = try Data(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Sources/KubeSim/Resources/swagger.json"))
        #expect(try ModelGenerator.generate(swagger: swagger) == ModelGenerator.generate(swagger: swagger))
    }
}
