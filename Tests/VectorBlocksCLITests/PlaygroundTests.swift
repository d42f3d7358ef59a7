import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

#if canImport(Glibc)
import Glibc
#endif

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

    @Test(
        "--demo --run-pods: pgvector's pods run PostgreSQL, psql reaches it through the printed load-balancer address, and the demo's pipeline fills it",
        .enabled(if: geteuid() == 0 && PostgresBinaries.find() != nil, "needs root and PostgreSQL with pgvector (run scripts/test.sh)"))
    func demoWithPodsThatRun() async throws {
        let psql = try #require(PostgresBinaries.find()).binDirectory + "/psql"
        let folder = try TemporaryDirectory()
        let kubeconfig = folder.path + "/kubeconfig"
        let playground = try BackgroundProgram.start("vectorblocks-playground", ["--demo", "--run-pods", "--kubeconfig-out", kubeconfig])
        try await playground.waitForOutput("serving until Ctrl-C", patience: .seconds(600))
        let line = try #require(playground.output.split(separator: "\n").first { $0.contains("embeddings answers on") })
        let address = try #require(line.split(separator: " ").last?.split(separator: ":").first.map(String.init))
        let client = try KubeClient(configuration: KubeClientConfiguration.load(kubeconfigPath: kubeconfig))
        let secret = try await client.get(CoreV1.Secret.self, name: "embeddings-conn-credential", namespace: "default")
        try await client.shutdown()
        let value = { (key: String) in secret.data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        #expect(!playground.output.contains(value("password")), "the demo printed the password")
        let result = try await run(
            psql, ["-h", address, "-U", value("username"), "-d", "postgres", "-tAc", "select extname from pg_extension where extname = 'vector'"],
            environment: ["PGPASSWORD": value("password"), "PATH": "/usr/bin:/bin"])
        #expect(result.status == 0 && result.output.contains("vector"), "\(result.output)")

        // The demo's pipeline: its own Pelican and Emu pods embedded the table into the cluster, the later rows too.
        #expect(playground.output.contains("pipeline documents: Streaming"), "\(playground.output)")
        #expect(playground.output.contains("Phase:") || playground.output.contains("Streaming"), "\(playground.output)")
        let count = { () async throws -> String in
            try await run(
                psql, ["-h", address, "-U", value("username"), "-d", "postgres", "-tAc", "select count(*) from vectors.documents"],
                environment: ["PGPASSWORD": value("password"), "PATH": "/usr/bin:/bin"]
            ).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await eventually("the 220 documents as vectors in embeddings", timeout: .seconds(120)) { try await count() == "220" ? true : nil }
        #expect(await playground.terminate() == 0, "\(playground.output)")
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
