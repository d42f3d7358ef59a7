import KubeKit
import TestSupport
import Testing

@testable import VectorBlocksAPI

@Suite("VectorPipeline embedder kind minilm")
struct MiniLMEmbedderSpecTests {
    static func pipeline(dimension: Int32, model: String? = nil) throws -> VectorPipeline {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        pipeline.spec.embedder = .init(kind: .minilm, model: model, dimension: dimension)
        return pipeline
    }

    @Test("kind minilm needs nothing else and takes 384 dimensions only")
    func validation() throws {
        #expect(try Self.pipeline(dimension: 384).validate().isEmpty)
        #expect(try Self.pipeline(dimension: 384, model: "sentence-transformers/all-MiniLM-L6-v2").validate().isEmpty)
        let wrongDimension = try Self.pipeline(dimension: 768).validate()
        #expect(wrongDimension.map(\.field) == ["spec.embedder.dimension"])
        #expect(wrongDimension.first?.message == "Invalid value: 768: kind minilm produces 384 dimensions")
        #expect(wrongDimension.first?.fix == "set embedder.dimension to 384")
        var withEndpoint = try Self.pipeline(dimension: 384, model: "text-embedding-3-small")
        withEndpoint.spec.embedder.openai = .init(baseURL: "https://api.openai.com/v1")
        #expect(withEndpoint.validate().map(\.field) == ["spec.embedder.model", "spec.embedder.openai"])
    }

    @Test("the CRD accepts kind minilm")
    func schema() throws {
        let kinds = VectorPipelineSpec.Embedder.Kind.allCases.map(\.rawValue)
        #expect(kinds.contains("minilm"))
        let crd = try String(contentsOf: repositoryFile("crds/vectorpipelines.apps.vectorblocks.io.yaml"), encoding: .utf8)
        #expect(crd.contains("- minilm"))
    }
}
