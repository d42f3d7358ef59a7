import ArgumentParser
import Foundation
import KubeModelGen

struct KubeModelGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-model-gen",
        abstract: "Generates the Swift models of Kubernetes kinds from the API's OpenAPI document.",
        subcommands: [Strip.self, Generate.self, Proto.self, Enums.self])
}

struct Strip: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the OpenAPI document without its descriptions, with sorted keys.")

    @Option(help: "The upstream OpenAPI v2 document.")
    var input: String

    @Option(help: "Where to write the stripped document.")
    var output: String

    func run() throws {
        let stripped = try DescriptionStripper.strip(Data(contentsOf: URL(fileURLWithPath: input)))
        try stripped.write(to: URL(fileURLWithPath: output), options: .atomic)
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Writes the generated Swift models.")

    @Option(help: "The (stripped) OpenAPI v2 document.")
    var swagger: String

    @Option(help: "The directory of generated sources; other Swift files in it are removed.")
    var output: String

    func run() throws {
        let files = try ModelGenerator.generate(swagger: Data(contentsOf: URL(fileURLWithPath: swagger)))
        try ModelGenerator.write(files, to: URL(fileURLWithPath: output, isDirectory: true))
        print("wrote \(files.count) files to \(output)")
    }
}

struct Proto: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the protobuf schema (messages and fields) KubeSim's protobuf codec reads, from the generated.proto files.")

    @Option(help: "The folder holding k8s.io/**/generated.proto.")
    var protoRoot = "../shared/reference/kubernetes/proto"

    @Option(help: "The (stripped) OpenAPI v2 document whose definitions give the fields' JSON names.")
    var swagger = "Sources/KubeSim/Resources/swagger.json"

    @Option(help: "Where to write the schema.")
    var output = "Sources/KubeSim/Resources/protobuf-schema.json"

    func run() throws {
        let text = try ProtoSchemaGenerator.generate(
            protoRoot: URL(fileURLWithPath: protoRoot, isDirectory: true), swagger: Data(contentsOf: URL(fileURLWithPath: swagger)))
        try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("wrote \(output)")
    }
}

struct Enums: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the values of the enumerated fields KubeSim validates, read from the upstream document's descriptions.")

    @Option(help: "The upstream OpenAPI v2 document, with its descriptions.")
    var swagger = "../shared/reference/kubernetes/swagger.json"

    @Option(help: "Where to write the enumerations.")
    var output = "Sources/KubeSim/Resources/enumerations.json"

    func run() throws {
        let text = try EnumerationExtractor.generate(swagger: Data(contentsOf: URL(fileURLWithPath: swagger)))
        try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("wrote \(output)")
    }
}

KubeModelGen.main()
