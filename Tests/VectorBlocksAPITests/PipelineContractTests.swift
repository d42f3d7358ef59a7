import TestSupport
import Testing
import VectorBlocksAPI

/// The pipeline's resource says what `pelican` and `emu` do: one template syntax, every key column.
@Suite("VectorPipeline contract")
struct PipelineContractTests {
    func templateErrors(_ template: String) -> [FieldError] {
        TextTemplateCheck.errors(in: template, at: FieldPath("spec").child("source").child("textTemplate"))
    }

    @Test("a Mustache template is refused with the single-brace form")
    func mustacheIsRefused() throws {
        let errors = templateErrors("{{title}}\n\n{{ body }}")
        #expect(errors.map(\.field) == ["spec.source.textTemplate"])
        #expect(errors.first?.message.contains("{{title}}") == true)
        #expect(errors.first?.fix.contains("write {title}") == true)

        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        pipeline.spec.source.textTemplate = "{{title}}"
        #expect(pipeline.validate().map(\.field) == ["spec.source.textTemplate"])
    }

    @Test("single-brace templates pass; broken ones name the problem")
    func singleBraces() {
        #expect(templateErrors("{title}\n\n{body}") == [])
        #expect(templateErrors("{name}: {{in braces}} and }}") == [])
        #expect(templateErrors("{{{title}}}") == [])
        #expect(templateErrors("{title").first?.message.contains("never closed") == true)
        #expect(templateErrors("a } {title}").first?.message.contains("closes nothing") == true)
        #expect(templateErrors("{na me}").first?.message.contains("does not name a column") == true)
        #expect(templateErrors("constant text {{ }}").first?.message.contains("uses no column") == true)
    }

    @Test("the example's template and composite keys are valid")
    func compositeKey() throws {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        #expect(pipeline.spec.source.textTemplate == "{title}\n\n{body}")
        pipeline.spec.source.primaryKey = ["document_id", "chunk"]
        #expect(pipeline.validate() == [])
    }
}
