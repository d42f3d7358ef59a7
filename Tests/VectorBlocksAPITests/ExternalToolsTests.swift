import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

/// The shipped manifests checked by programs we did not write: kubernetes-validate against the upstream schemas,
/// jsonschema against our CRDs, and Helm (through helm-python-sdk) for the charts. They come from the test venv
/// that ./scripts/test.sh installs; without it these tests fail and say so.
@Suite("Manifests checked by kubernetes-validate, jsonschema and Helm")
struct ExternalToolsTests {
    func files(in folder: String) async throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: repositoryFile(folder).path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    /// scripts/validate-manifests.py: built-in kinds with kubernetes-validate --strict, custom resources against crds/.
    func validateManifests(_ paths: [String]) async throws -> ProcessResult {
        try await run(try TestVenv.program("python"), ["scripts/validate-manifests.py", "--crds", "crds"] + paths)
    }

    @Test("crds/ passes kubernetes-validate --strict")
    func crdsStrict() async throws {
        let result = try await run(try TestVenv.program("kubernetes-validate"), ["--strict"] + files(in: "crds"))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("INFO") && $0.contains("passed") }.count == 6, "\(result.output)")
        #expect(!result.output.contains("ERROR") && !result.output.contains("WARN"), "\(result.output)")
    }

    @Test("deploy/addons and examples/ validate strictly, custom resources against the CRD schemas")
    func deployAndExamples() async throws {
        let result = try await validateManifests(try files(in: "deploy/addons") + files(in: "examples"))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(", 0 problems"), "\(result.output)")
    }

    @Test("jsonschema also rejects the bad examples, at the same field")
    func badExamples() async throws {
        for path in try await files(in: "examples/bad") where !path.hasSuffix("changed-definition.yaml") {
            let text = try String(contentsOf: repositoryFile(path), encoding: .utf8)
            let field = try #require(text.split(separator: "\n").first { $0.hasPrefix("# expect-field: ") })
                .dropFirst("# expect-field: ".count)
            // jsonschema writes spec.componentSpecs.0.replicas for spec.componentSpecs[0].replicas; a missing property is
            // reported at its parent.
            let dotted = field.replacing(/\[(\w+)\]/) { ".\($0.1)" }
            let result = try await validateManifests([path])
            #expect(result.status == 1, "\(path): \(result.output)")
            let parent = dotted.split(separator: ".").dropLast().joined(separator: ".")
            #expect(
                result.output.contains(": \(dotted): ") || result.output.contains(": \(parent): '\(dotted.split(separator: ".").last ?? "")'"),
                "\(path): \(result.output)")
        }
    }

    @Test("the charts pass helm lint --strict", arguments: ["qdrant", "pgvector", "vectorblocks"])
    func helmLint(chart: String) async throws {
        let result = try await run(try TestVenv.program("python"), ["scripts/helm-chart.py", "lint", "charts/\(chart)"])
        #expect(result.status == 0, "\(result.output)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
        #expect(report["total_charts_linted"] == 1)
        #expect(report["errors"] == [])
    }

    @Test("a chart rendered with its defaults is deploy/addons and validates strictly", arguments: ["qdrant", "pgvector"])
    func helmRender(chart: String) async throws {
        let result = try await run(
            try TestVenv.program("python"),
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
        let validation = try await validateManifests([file.path])
        #expect(validation.status == 0, "\(validation.output)")
        #expect(validation.output.contains("validated 4 objects, 0 problems"), "\(validation.output)")
    }

    @Test("deploy/operator.yaml validates strictly")
    func operatorManifests() async throws {
        let result = try await validateManifests([GeneratedFiles.operatorManifestPath])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("validated 9 objects, 0 problems"), "\(result.output)")
    }

    /// charts/vectorblocks rendered into vectorblocks-system, with `values` over the defaults.
    func renderOperatorChart(values: JSONValue? = nil) async throws -> ProcessResult {
        var arguments = ["scripts/helm-chart.py", "render", "charts/vectorblocks", "--namespace", OperatorPackage.defaultNamespace]
        if let values { arguments += ["--values-json", values.canonicalJSON] }
        return try await run(try TestVenv.program("python"), arguments)
    }

    func key(_ document: JSONValue) -> String {
        "\(document["kind"]?.stringValue ?? "")/\(document["metadata"]?["name"]?.stringValue ?? "")"
    }

    func validateRendered(_ output: String, objects: Int) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vb-rendered-operator-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(output.utf8).write(to: file)
        let validation = try await validateManifests([file.path])
        #expect(validation.status == 0, "\(validation.output)")
        #expect(validation.output.contains("validated \(objects) objects, 0 problems"), "\(validation.output)")
    }

    @Test("charts/vectorblocks rendered with its defaults is deploy/operator.yaml (but the Namespace) and validates strictly")
    func operatorChartDefaults() async throws {
        let result = try await renderOperatorChart()
        #expect(result.status == 0, "\(result.output)")
        let rendered = try ManifestYAML.parse(result.output)
        let plain = try yamlDocuments(GeneratedFiles.operatorManifestPath).filter { $0["kind"] != "Namespace" }
        #expect(rendered.map(key).sorted() == plain.map(key).sorted())
        for document in plain {
            #expect(rendered.first { key($0) == key(document) } == document, "\(key(document)) renders as in deploy/operator.yaml")
        }
        try await validateRendered(result.output, objects: 8)
    }

    @Test("charts/vectorblocks with other values: each value lands where the operator reads it")
    func operatorChartValues() async throws {
        let values: JSONValue = [
            "image": ["registry": "registry.example.com", "repository": "platform/vectorblocks-operator", "tag": "0.2.0-rc.1"],
            "replicas": 1,
            "resources": ["requests": ["cpu": "50m", "memory": "64Mi"], "limits": ["cpu": "1", "memory": "512Mi"]],
            "watchNamespaces": ["search", "databases"],
            "logLevel": "debug",
            "leaderElection": false,
            "topologySpreadConstraints": [
                [
                    "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": ["matchLabels": ["app.kubernetes.io/name": "vectorblocks-operator"]],
                ]
            ],
        ]
        let result = try await renderOperatorChart(values: values)
        #expect(result.status == 0, "\(result.output)")
        let rendered = try ManifestYAML.parse(result.output)
        #expect(!rendered.contains { $0["kind"] == "PodDisruptionBudget" }, "no PodDisruptionBudget for one replica")
        let deployment = try #require(rendered.first { $0["kind"] == "Deployment" }).decode(as: AppsV1.Deployment.self)
        #expect(deployment.spec?.replicas == 1)
        let pod = try #require(deployment.spec?.template.spec)
        let container = try #require(pod.containers.first)
        #expect(container.image == "registry.example.com/platform/vectorblocks-operator:0.2.0-rc.1")
        #expect(
            container.resources
                == CoreV1.ResourceRequirements(
                    limits: ["cpu": "1", "memory": "512Mi"], requests: ["cpu": "50m", "memory": "64Mi"]))
        #expect(container.args?.contains("--no-leader-elect") == true)
        #expect(container.args?.contains("--leader-elect") == false)
        #expect(container.env?.first { $0.name == "VB_WATCH_NAMESPACES" }?.value == "search,databases")
        #expect(container.env?.first { $0.name == "VB_LOG_LEVEL" }?.value == "debug")
        #expect(pod.topologySpreadConstraints?.map(\.topologyKey) == ["topology.kubernetes.io/zone"])
        try await validateRendered(result.output, objects: 7)
    }

    @Test(
        "the chart refuses bad values before rendering, naming the value",
        arguments: [
            (["logLevel": "verbose"], "logLevel"),
            (["replicas": 0], "replicas"),
            (["watchNamespaces": ["Search"]], "watchNamespaces"),
            (["leaderElection": false], "leaderElection: false runs every replica as the active operator; set replicas: 1"),
            (["replica": 3], "replica"),
        ] as [(JSONValue, String)])
    func operatorChartRefuses(values: JSONValue, field: String) async throws {
        let result = try await renderOperatorChart(values: values)
        #expect(result.status != 0, "\(values) was accepted: \(result.output)")
        #expect(result.output.contains(field), "\(result.output)")
    }
}
