import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

/// The playground and kube-sim executables as a user runs them: the demo to its end, and serving until a signal,
/// then a clean exit that leaves nothing listening.
@Suite("vectorblocks-playground and kube-sim executables")
struct PlaygroundTests {
    @Test("--demo runs every step against the operator and exits 0")
    func demoRunsToTheEnd() async throws {
        let folder = try TemporaryDirectory()
        let result = try await run(
            try BuiltProduct.path("vectorblocks-playground"), ["--demo", "--kubeconfig-out", folder.path + "/kubeconfig"])
        #expect(result.status == 0, "\(result.output)")
        for step in ["== 1.", "== 2.", "== 3.", "== 4."] {
            #expect(result.output.contains(step), "the demo did not reach \(step):\n\(result.output)")
        }
    }

    @Test("serving, the playground answers with its CRDs and addons installed; SIGTERM stops it with status 0")
    func playgroundStopsOnSigterm() async throws {
        let folder = try TemporaryDirectory()
        let kubeconfig = folder.path + "/kubeconfig"
        let playground = try BackgroundProgram.start("vectorblocks-playground", ["--kubeconfig-out", kubeconfig])
        try await playground.waitForOutput("serving until Ctrl-C")
        let client = try KubeClient(configuration: KubeClientConfiguration.load(kubeconfigPath: kubeconfig))
        let definitions = try await client.listAll(ClusterDefinition.self).items.compactMap(\.metadata?.name)
        try await client.shutdown()
        #expect(Set(definitions) == ["pgvector", "qdrant"])
        #expect(await playground.terminate() == 0, "\(playground.output)")
        try await expectNothingListens(kubeconfig: kubeconfig)
    }

    @Test("kube-sim stops on SIGTERM with status 0 and says so")
    func kubeSimStopsOnSigterm() async throws {
        let folder = try TemporaryDirectory()
        let kubeconfig = folder.path + "/kubeconfig"
        let server = try BackgroundProgram.start("kube-sim", ["--kubeconfig", kubeconfig])
        try await server.waitForOutput("listening on")
        #expect(await server.terminate() == 0, "\(server.output)")
        #expect(server.output.contains("kube-sim: shut down"), "\(server.output)")
        try await expectNothingListens(kubeconfig: kubeconfig)
    }

    private func expectNothingListens(kubeconfig: String) async throws {
        let client = try KubeClient(configuration: KubeClientConfiguration.load(kubeconfigPath: kubeconfig))
        await #expect(throws: (any Error).self) { _ = try await client.listAll(ClusterDefinition.self) }
        try await client.shutdown()
    }
}
