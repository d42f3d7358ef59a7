import ArgumentParser
import Foundation
import KubeKit
import VectorBlocksAPI

/// Writes the generated files of the repository: the CRDs from the Swift API types, and the addons as plain
/// manifests and Helm charts. Run from the repository root.
@main
struct VectorBlocksGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-gen",
        abstract: "Generate the VectorBlocks CRDs and addon manifests from the Swift sources.",
        subcommands: [CRDs.self, Addons.self])

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
            let relocated = Dictionary(uniqueKeysWithValues: files.map { path, text in
                (path.replacingOccurrences(of: GeneratedFiles.crdDirectory + "/", with: ""), text)
            })
            let changed = try GeneratedFiles.write(relocated, under: URL(fileURLWithPath: output))
            print("vectorblocks-gen: \(files.count) CRDs in \(output), \(changed.count) changed")
        }
    }

    struct Addons: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "addons", abstract: "Write deploy/addons/*.yaml and charts/<addon>/ from Sources/VectorBlocksAPI/Addons.")

        @Option(help: "The repository root; the files go to deploy/addons and charts under it.")
        var root = "."

        func run() throws {
            let files = try GeneratedFiles.addons()
            let changed = try GeneratedFiles.write(files, under: URL(fileURLWithPath: root))
            print("vectorblocks-gen: \(files.count) addon files, \(changed.count) changed")
        }
    }
}
