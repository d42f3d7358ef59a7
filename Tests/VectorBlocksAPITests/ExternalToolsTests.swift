import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

/// The shipped manifests checked by programs we did not write: kubernetes-validate against the upstream schemas,
/// jsonschema against our CRDs, and Helm (through helm-python-sdk) for the charts. They come from the test venv
/// that ./scripts/test.sh installs; without it these tests fail and say so.
@Suite("Manifests checked by kubernetes-validate, jsonschema and Helm")
struct ExternalToolsTests {
    func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: repositoryFile(folder).path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    /// scripts/validate-manifests.py: built-in kinds with kubernetes-validate --strict, custom resources against crds/.
    func validateManifests(_ paths: [String]) throws -> ProcessResult {
        try run(try TestVenv.program("python"), ["scripts/validate-manifests.py", "--crds", "crds"] + paths)
    }

    @Test("crds/ passes kubernetes-validate --strict")
    func crdsStrict() throws {
        let result = try run(try TestVenv.program("kubernetes-validate"), ["--strict"] + files(in: "crds"))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("INFO") && $0.contains("passed") }.count == 5, "\(result.output)")
        #expect(!result.output.contains("ERROR") && !result.output.contains("WARN"), "\(result.output)")
    }

    @Test("deploy/addons and examples/ validate strictly, custom resources against the CRD schemas")
    func deployAndExamples() throws {
        let result = try validateManifests(try files(in: "deploy/addons") + files(in: "examples"))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(", 0 problems"), "\(result.output)")
    }

    @Test("jsonschema also rejects the bad examples, at the same field")
    func badExamples() throws {
        for path in try files(in: "examples/bad") where !path.hasSuffix("changed-definition.yaml") {
            let text = try String(contentsOf: repositoryFile(path), encoding: .utf8)
            let field = try #require(text.split(separator: "\n").first { $0.hasPrefix("# expect-field: ") })
                .dropFirst("# expect-field: ".count)
            // jsonschema writes spec.componentSpecs.0.replicas for spec.componentSpecs[0].replicas; a missing property is
            // reported at its parent.
            let dotted = field.replacing(/\[(\w+)\]/) { ".\($0.1)" }
            let result = try validateManifests([path])
            #expect(result.status == 1, "\(path): \(result.output)")
            let parent = dotted.split(separator: ".").dropLast().joined(separator: ".")
            #expect(result.output.contains(": \(dotted): ") || result.output.contains(": \(parent): '\(dotted.split(separator: ".").last ?? "")'"),
                "\(path): \(result.output)")
        }
    }

    @Test("the charts pass helm lint --strict", arguments: ["qdrant", "pgvector"])
    func helmLint(chart: String) throws {
        let result = try run(try TestVenv.program("python"), ["scripts/helm-chart.py", "lint", "charts/\(chart)"])
        #expect(result.status == 0, "\(result.output)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
        #expect(report["total_charts_linted"] == 1)
        #expect(report["errors"] == [])
    }

    @Test("a chart rendered with its defaults is deploy/addons and validates strictly", arguments: ["qdrant", "pgvector"])
    func helmRender(chart: String) throws {
        let result = try run(try TestVenv.program("python"),
            ["scripts/helm-chart.py", "render", "charts/\(chart)", "--namespace", Addon.defaultNamespace])
        #expect(result.status == 0, "\(result.output)")
        let rendered = try ManifestYAML.parse(result.output)
        let plain = try yamlDocuments("deploy/addons/\(chart).yaml")
        func key(_ document: JSONValue) -> String {
            "\(document["kind"]?.stringValue ?? "")/\(document["metadata"]?["name"]?.stringValue ?? "")"
        }
        #expect(rendered.map(key).sorted() == plain.map(key).sorted())
        for document in plain {
            #expect(rendered.first { key($0) == key(document) } == document, "\(key(document)) renders as in deploy/addons/\(chart).yaml")
        }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vb-rendered-\(chart)-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(result.output.utf8).write(to: file)
        let validation = try validateManifests([file.path])
        #expect(validation.status == 0, "\(validation.output)")
        #expect(validation.output.contains("validated 4 objects, 0 problems"), "\(validation.output)")
    }
}
