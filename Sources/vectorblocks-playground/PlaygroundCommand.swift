import ArgumentParser
import Foundation
import KubeSim
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
    @Flag(
        help: """
            Create a Qdrant and a pgvector cluster, scale, resize and expose them, printing each step; then exit \
            (with --run-pods, also feed the pgvector cluster from a table through a VectorPipeline, and keep serving \
            so you can connect).
            """) var demo = false
    @Flag(
        help: """
            Run pgvector's pods as processes (Linux, root): a PostgreSQL with pgvector from PATH or the test wheel \
            scripts/test.sh installs; and a VectorPipeline's Pelican and Emu pods as the pelican and emu built beside \
            this executable. Qdrant has no binary here, so its pods stay simulated.
            """) var runPods = false
    @Option(help: "With --run-pods: a YAML image map (image repositories to host bin directories) instead of the PostgreSQL found.")
    var imageMap: String?

    func validate() throws {
        if imageMap != nil && !runPods { throw ValidationError("--image-map is only used with --run-pods: add --run-pods") }
    }

    func run() async throws {
        var logger = Logger(label: "playground")
        logger.logLevel = .error
        let pods = try podMode()
        let playground = try await Playground.start(port: port, kubeconfigPath: kubeconfigOut, pods: pods, logger: logger)
        let nodes = runPods ? "3 nodes whose pgvector pods run as processes (Qdrant's stay simulated)" : "3 simulated nodes"
        Self.print(
            """
            VectorBlocks playground on \(playground.server.baseURL) (KubeSim with \(nodes), the operator in this process)
            kubeconfig: \(kubeconfigOut)
              export KUBECONFIG=\(kubeconfigOut)
              kbctl addon list
              kubectl get cd,cv


            """)
        if demo {
            let demo = PlaygroundDemo(client: playground.client, podsRun: runPods, pipelineWorkersRun: pods.runsPipelineWorkers) {
                Self.print($0.hasSuffix("\n") ? $0 : $0 + "\n")
            }
            do {
                try await playground.run(until: { try await demo.run() })
            } catch {
                await playground.stop()
                throw error
            }
            guard runPods else {
                await playground.stop()
                return
            }
        }
        let serving = ServingAnnouncement { Self.print("serving until Ctrl-C\n") }
        try await ServiceGroup(configuration: .init(services: [playground, serving], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            .run()
    }

    private func podMode() throws -> Playground.Pods {
        guard runPods else { return .simulated }
        if let imageMap {
            do {
                return .processes(try ImageMap.load(path: imageMap))
            } catch {
                throw ValidationError("--image-map \(imageMap): \(error)")
            }
        }
        guard let postgres = PostgresBinaries.find(searchRoots: [FileManager.default.currentDirectoryPath]) else {
            throw ValidationError("--run-pods: \(PostgresBinaries.howToGetThem)")
        }
        // The pipeline's workers run as the pelican and emu built beside this executable, when they are there.
        let products = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
            .deletingLastPathComponent().path
        return .processes(ImageMap([postgres] + (PipelineWorkerBinaries.find(in: products) ?? [])))
    }

    private static func print(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
