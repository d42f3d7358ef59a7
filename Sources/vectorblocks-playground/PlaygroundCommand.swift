import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VectorBlocksPlayground

/// The playground is its own executable rather than a kbctl subcommand: it links the test API server and the whole
/// operator, which the production CLI must not carry, and a kbctl that ran it as a plugin would need a second binary
/// that `swift run kbctl` does not build.
@main
struct PlaygroundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-playground",
        abstract: "Run a local API server with simulated nodes, the CRDs, both addons and the operator, for trying kbctl and kubectl with no cluster.",
        discussion: """
            Examples:
              vectorblocks-playground --demo                                  # a guided tour, then exit
              vectorblocks-playground --kubeconfig-out /tmp/vb.kubeconfig     # serve until Ctrl-C; in another shell:
              kbctl cluster create vectors --cluster-definition qdrant --replicas 3 --kubeconfig /tmp/vb.kubeconfig
              kubectl --kubeconfig /tmp/vb.kubeconfig get vbc,sts,pods
            """)

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).") var port = 0
    @Option(help: "Where to write the kubeconfig.") var kubeconfigOut = FileManager.default.temporaryDirectory
        .appendingPathComponent("vectorblocks-playground.kubeconfig").path
    @Flag(help: "Create a Qdrant and a pgvector cluster, scale, resize and expose them, printing each step; then exit.") var demo = false

    func run() async throws {
        var logger = Logger(label: "playground")
        logger.logLevel = .error
        let playground = try await Playground.start(port: port, kubeconfigPath: kubeconfigOut, logger: logger)
        Self.print(
            """
            VectorBlocks playground on \(playground.server.baseURL) (KubeSim with 3 simulated nodes, the operator in this process)
            kubeconfig: \(kubeconfigOut)
              export KUBECONFIG=\(kubeconfigOut)
              kbctl addon list
              kubectl get cd,cv


            """)
        guard demo else {
            Self.print("serving until Ctrl-C\n")
            try await ServiceGroup(configuration: .init(services: [playground], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
            return
        }
        let demo = PlaygroundDemo(client: playground.client) { Self.print($0.hasSuffix("\n") ? $0 : $0 + "\n") }
        do {
            try await playground.run(until: { try await demo.run() })
        } catch {
            await playground.stop()
            throw error
        }
        await playground.stop()
    }

    private static func print(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
