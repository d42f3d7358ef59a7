import ArgumentParser
import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksPackaging

/// Writes the generated files of the repository: the CRDs from the Swift API types, and the addons and the operator
/// as plain manifests and Helm charts. Run from the repository root.
@main
struct VectorBlocksGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-gen",
        abstract: "Generate the VectorBlocks CRDs, addon and operator manifests and charts from the Swift sources.",
        subcommands: [CRDs.self, Addons.self, Deploy.self])

    struct CRDs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crds", abstract: "Write crds/*.yaml (apiextensions.k8s.io/v1) from Sources/VectorBlocksAPI.")

        @Option(help: "The folder to write the CRDs into.")
        var output = GeneratedFiles.crdDirectory

        @Option(help: "The Kubernetes OpenAPI v2 document the built-in types' schemas are taken from.")
        var openapi = GeneratedFiles.openAPIDocumentPath

        func run() throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: openapi))
            let document = try JSONDecoder().decode(JSONValue.self, from: data)
            let files = try GeneratedFiles.crds(openAPIDocument: document)
            let relocated = Dictionary(
                uniqueKeysWithValues: files.map { path, text in
                    (path.replacingOccurrences(of: GeneratedFiles.crdDirectory + "/", with: ""), text)
                })
            let folder = URL(fileURLWithPath: output)
            let changed = try GeneratedFiles.write(relocated, under: folder)
            // A kind that was renamed or removed leaves its old CRD behind; it would still be applied with crds/.
            let ours = ".\(VectorBlocksAPI.group).yaml"
            let stale = try FileManager.default.contentsOfDirectory(atPath: output)
                .filter { $0.hasSuffix(ours) && relocated[$0] == nil }
            for name in stale {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
                print("vectorblocks-gen: removed \(output)/\(name), which no kind generates")
            }
            print("vectorblocks-gen: \(files.count) CRDs in \(output), \(changed.count) changed")
        }
    }

    struct Addons: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "addons", abstract: "Write deploy/addons/*.yaml and charts/<addon>/ from Sources/VectorBlocksPackaging/Addons.")

        @Option(help: "The repository root; the files go to deploy/addons and charts under it.")
        var root = "."

        func run() throws {
            let files = try GeneratedFiles.addons()
            let changed = try GeneratedFiles.write(files, under: URL(fileURLWithPath: root))
            print("vectorblocks-gen: \(files.count) addon files, \(changed.count) changed")
        }
    }

    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deploy",
            abstract: "Write deploy/operator.yaml and charts/vectorblocks/ (with the CRDs) and the CRDs kbctl ships from Sources/VectorBlocksPackaging/Deploy.")

        @Option(help: "The repository root; the files go to deploy and charts under it.")
        var root = "."

        @Option(help: "The Kubernetes OpenAPI v2 document the CRDs' built-in types are taken from, relative to the root.")
        var openapi = GeneratedFiles.openAPIDocumentPath

        func run() throws {
            let rootURL = URL(fileURLWithPath: root)
            let data = try Data(contentsOf: rootURL.appendingPathComponent(openapi))
            let document = try JSONDecoder().decode(JSONValue.self, from: data)
            let files = try GeneratedFiles.deploy(openAPIDocument: document)
            let changed = try GeneratedFiles.write(files, under: rootURL)
            // A removed template or CRD would still be installed by the chart.
            let chart = "\(GeneratedFiles.chartDirectory)/\(OperatorPackage.chartName)"
            for folder in ["\(chart)/templates", "\(chart)/crds", GeneratedFiles.shippedCRDDirectory] {
                let stale = try FileManager.default.contentsOfDirectory(atPath: rootURL.appendingPathComponent(folder).path)
                    .filter { files["\(folder)/\($0)"] == nil }
                for name in stale {
                    try FileManager.default.removeItem(at: rootURL.appendingPathComponent("\(folder)/\(name)"))
                    print("vectorblocks-gen: removed \(folder)/\(name), which the generator does not write")
                }
            }
            print("vectorblocks-gen: \(files.count) operator files, \(changed.count) changed")
        }
    }
}
