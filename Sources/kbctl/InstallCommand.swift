import ArgumentParser
import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksCLI
import VectorBlocksPackaging

/// The image and namespace `install` and `uninstall` share.
struct OperatorPlacement: ParsableArguments {
    @Option(help: "The operator's namespace.") var operatorNamespace = OperatorPackage.defaultNamespace
    @Option(help: "The operator's image (default: docker.io/vectorblocks/vectorblocks-operator:\(OperatorPackage.version)).") var image: String?
    @Option(help: "Operator replicas (one leads through a Lease).") var replicas: Int32 = 2

    func settings() throws -> OperatorSettings {
        var settings = OperatorSettings()
        settings.replicas = replicas
        if let image {
            // registry/repository:tag, the registry being the part before the first slash when it has a dot or port.
            guard let colon = image.lastIndex(of: ":"), !image[image.index(after: colon)...].contains("/") else {
                throw CLIError(
                    "--image \"\(image)\" has no tag: use registry/repository:tag, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/vectorblocks-operator:0.1.0"
                )
            }
            let path = String(image[..<colon])
            let tag = String(image[image.index(after: colon)...])
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            let hasRegistry = parts.count == 2 && (parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost")
            settings.image = AddonImage(
                valuesKey: "image", registry: hasRegistry ? parts[0] : "docker.io", repository: hasRegistry ? parts[1] : path, tag: tag)
        }
        return settings
    }
}

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install", abstract: "Install the CRDs and the operator (RBAC, Deployment, metrics Service) into a cluster.",
        discussion: """
            Examples:
              kbctl install --wait
              kbctl install --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/vectorblocks-operator:0.1.0 --operator-namespace platform
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var placement: OperatorPlacement
    @Flag(help: "Wait until the operator is ready.") var wait = false

    func run() async throws {
        try await global.run(.install) { session in
            let applied = try await session.install(
                crds: try ShippedCRDs.documents(), settings: try placement.settings(), namespace: placement.operatorNamespace)
            Terminal.print(try session.printNames(applied, verb: "applied", for: .install))
            guard wait else { return }
            try await session.waitForOperator(namespace: placement.operatorNamespace)
            Terminal.progressLine("the operator is ready; next: kbctl addon enable qdrant\n", format: session.format)
        }
    }
}

struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall", abstract: "Remove the operator; with --remove-crds also the CRDs (refused while Clusters exist).",
        discussion: "Example:\n  kbctl uninstall --remove-crds")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var placement: OperatorPlacement
    @Flag(help: "Also remove the CRDs.") var removeCrds = false

    func run() async throws {
        try await global.run(.uninstall) { session in
            let names = try ShippedCRDs.documents().compactMap { $0["metadata"]?["name"]?.stringValue }
            let removed = try await session.uninstall(
                settings: try placement.settings(), namespace: placement.operatorNamespace, removeCRDs: removeCrds, crdNames: names)
            Terminal.print(try session.printNames(removed, verb: "deleted", for: .uninstall))
        }
    }
}
