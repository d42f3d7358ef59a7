import ArgumentParser
import Dispatch
import Foundation
import Logging
import VectorBlocksPlayground

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct PlaygroundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playground",
        abstract: "Run a local API server with simulated nodes, the CRDs, both addons and the operator, for trying kbctl and kubectl with no cluster.",
        discussion: """
            Examples:
              kbctl playground --demo                                  # a guided tour, then exit
              kbctl playground --kubeconfig-out /tmp/vb.kubeconfig     # serve until Ctrl-C; in another shell:
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
        Terminal.print("""
            VectorBlocks playground on \(playground.server.baseURL) (KubeSim with 3 simulated nodes, the operator in this process)
            kubeconfig: \(kubeconfigOut)
              export KUBECONFIG=\(kubeconfigOut)
              kbctl addon list
              kubectl get cd,cv


            """)
        if demo {
            do {
                try await PlaygroundDemo(client: playground.client) { Terminal.print($0.hasSuffix("\n") ? $0 : $0 + "\n") }.run()
            } catch {
                await playground.stop()
                throw error
            }
            await playground.stop()
            return
        }
        Terminal.print("serving until Ctrl-C\n")
        await Self.waitForInterrupt()
        await playground.stop()
    }

    static func waitForInterrupt() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        var iterator = signals.makeAsyncIterator()
        _ = await iterator.next()
        for source in sources { source.cancel() }
    }
}
