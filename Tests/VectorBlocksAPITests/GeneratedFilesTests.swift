import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@Suite("Generated files: CRDs, addon manifests and charts")
struct GeneratedFilesTests {
    let openAPIDocument: JSONValue

    init() throws {
        openAPIDocument = try GeneratedFiles.loadOpenAPIDocument(repositoryRoot: repositoryRoot)
    }

    func expectCommitted(_ files: [String: String], regenerate command: String) throws {
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let committed = try? String(contentsOf: repositoryFile(path), encoding: .utf8)
            #expect(committed == text, "\(path) differs from the generator's output; run `\(command)` and commit the result")
        }
    }

    @Test("crds/ is what the generator writes")
    func crdsMatchGenerator() throws {
        let files = try GeneratedFiles.crds(openAPIDocument: openAPIDocument)
        #expect(files.count == 6)
        try expectCommitted(files, regenerate: "swift run vectorblocks-gen crds --output crds")
        let committed = try FileManager.default.contentsOfDirectory(atPath: repositoryFile("crds").path).map { "crds/\($0)" }
        #expect(Set(committed) == Set(files.keys), "crds/ holds files the generator does not write; delete them")
    }

    @Test("deploy/addons and charts/ are what the generator writes")
    func addonsMatchGenerator() throws {
        try expectCommitted(try GeneratedFiles.addons(), regenerate: "swift run vectorblocks-gen addons")
    }

    @Test("deploy/operator.yaml and charts/vectorblocks are what the generator writes, the chart's CRDs those of crds/")
    func deployMatchesGenerator() throws {
        let files = try GeneratedFiles.deploy(openAPIDocument: openAPIDocument)
        try expectCommitted(files, regenerate: "swift run vectorblocks-gen deploy")
        for folder in ["charts/vectorblocks/templates", "charts/vectorblocks/crds"] {
            let committed = try FileManager.default.contentsOfDirectory(atPath: repositoryFile(folder).path).map { "\(folder)/\($0)" }
            #expect(Set(committed) == Set(files.keys.filter { $0.hasPrefix(folder + "/") }), "\(folder) holds files the generator does not write; delete them")
        }
        for (path, text) in try GeneratedFiles.crds(openAPIDocument: openAPIDocument) {
            #expect(files["charts/vectorblocks/\(path)"] == text, "charts/vectorblocks/\(path) is a copy of \(path)")
        }
    }

    func crd(_ kind: String) throws -> JSONValue {
        let crdKind = try #require(CustomResourceKind.all.first { $0.descriptor.kind == kind })
        return try CRDGenerator(openAPIDocument: openAPIDocument).customResourceDefinition(for: crdKind)
    }

    @Test("names, scope, printer columns, categories and the status subresource")
    func crdNames() throws {
        let expected: [(kind: String, short: String, scope: String, columns: [String])] = [
            ("ClusterDefinition", "cd", "Cluster", ["TYPE", "STATUS", "AGE"]),
            ("ClusterVersion", "cv", "Cluster", ["DEFINITION", "STATUS", "AGE"]),
            ("Cluster", "vbc", "Namespaced", ["DEFINITION", "VERSION", "TERMINATION-POLICY", "STATUS", "AGE"]),
            ("OpsRequest", "ops", "Namespaced", ["TYPE", "CLUSTER", "STATUS", "PROGRESS", "AGE"]),
            ("VectorPipeline", "vp", "Namespaced", ["SOURCE", "SINKS", "PHASE", "BACKLOG", "LAG", "AGE"]),
            ("Backup", "vbb", "Namespaced", ["CLUSTER", "METHOD", "STATUS", "TOTAL-SIZE", "COMPLETION-TIME", "AGE"]),
        ]
        for (kind, short, scope, columns) in expected {
            let crd = try crd(kind)
            let spec = try #require(crd["spec"])
            #expect(spec["names"]?["shortNames"] == [.string(short)])
            #expect(spec["names"]?["categories"] == ["vectorblocks", "all"])
            #expect(spec["scope"]?.stringValue == scope)
            let version = try #require(spec["versions"]?.arrayValue?.first)
            #expect(version["subresources"]?["status"] == .object([:]))
            #expect(version["additionalPrinterColumns"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == columns)
        }
    }

    @Test("the PodSpec is embedded from the reference document, not a preserve-unknown-fields hole")
    func podSpecEmbedded() throws {
        let root = try crd("ClusterDefinition")["spec"]?["versions"]?.arrayValue?.first?["schema"]?["openAPIV3Schema"]
        let podSpec = try #require(root?.value(at: ["properties", "spec", "properties", "componentDefs", "items", "properties", "podSpec"]))
        #expect(podSpec["x-kubernetes-preserve-unknown-fields"] == nil)
        #expect(podSpec["required"] == ["containers"])
        let containers = try #require(podSpec["properties"]?["containers"])
        #expect(containers["x-kubernetes-list-type"] == "map")
        #expect(containers["x-kubernetes-list-map-keys"] == ["name"])
        let ports = try #require(containers["items"]?["properties"]?["ports"])
        #expect(ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"])
        #expect(ports["items"]?["properties"]?["protocol"]?["default"] == "TCP", "a list-map key must be required or defaulted")
        let memory = try #require(containers.value(at: ["items", "properties", "resources", "properties", "limits", "additionalProperties"]))
        #expect(memory["x-kubernetes-int-or-string"] == true)
        #expect(memory["pattern"]?.stringValue == Quantity.pattern)
        #expect(!podSpec.canonicalJSON.contains("$ref"))
    }

    @Test("required fields, enums, minimums, list maps and the self == oldSelf rules")
    func clusterSchema() throws {
        let root = try #require(try crd("Cluster")["spec"]?["versions"]?.arrayValue?.first?["schema"]?["openAPIV3Schema"])
        let spec = try #require(root["properties"]?["spec"])
        #expect(spec["required"] == ["clusterDefinitionRef", "componentSpecs", "terminationPolicy"])
        #expect(spec.value(at: ["properties", "terminationPolicy", "enum"]) == ["DoNotTerminate", "Halt", "Delete", "WipeOut"])
        // Required, so no default: one would decide for the user whether deleting the Cluster deletes its data.
        #expect(spec.value(at: ["properties", "terminationPolicy", "default"]) == nil)
        #expect(
            spec.value(at: ["properties", "clusterDefinitionRef", "x-kubernetes-validations"]) == [
                ["rule": "self == oldSelf", "message": "clusterDefinitionRef is immutable"]
            ])
        let components = try #require(spec["properties"]?["componentSpecs"])
        #expect(components["x-kubernetes-list-type"] == "map")
        #expect(components["x-kubernetes-list-map-keys"] == ["name"])
        #expect(components.value(at: ["items", "properties", "replicas", "minimum"]) == 0)
        #expect(components.value(at: ["items", "properties", "replicas", "default"]) == 1)
        #expect(components.value(at: ["items", "properties", "name", "maxLength"]) == 22)

        let ops = try #require(
            try crd("OpsRequest").value(at: ["spec", "versions"])?.arrayValue?.first?.value(at: ["schema", "openAPIV3Schema", "properties", "spec"]))
        #expect(ops.value(at: ["properties", "clusterRef", "x-kubernetes-validations"])?.arrayValue?.first?["rule"] == "self == oldSelf")
        #expect(ops.value(at: ["properties", "type", "x-kubernetes-validations"])?.arrayValue?.first?["rule"] == "self == oldSelf")
    }
}
