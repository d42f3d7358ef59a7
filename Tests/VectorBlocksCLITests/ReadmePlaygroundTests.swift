import Foundation
import TestSupport
import Testing

/// The README's playground commands, run as written: the block after "# in another shell:" in one bash, against the
/// playground serving, with the built kbctl for `swift run kbctl`, a temporary home for `~` and the real kubectl.
@Suite("README playground")
struct ReadmePlaygroundTests {
    /// The shell lines of the README's playground section that a user types in the second shell.
    static func secondShellLines() throws -> [String] {
        let readme = try String(contentsOf: repositoryFile("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "# in another shell:"),
            let end = lines[start...].firstIndex(of: "```")
        else { throw TestSetupError("README.md has no playground block with \"# in another shell:\"") }
        return Array(lines[(start + 1)..<end])
    }

    @Test func theSecondShellsCommandsWorkAsWritten() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        let kubectl = try KubectlPluginTests.kubectl()
        let home = try TemporaryDirectory()
        let kubeconfig = home.path + "/vb.kubeconfig"
        let lines = try Self.secondShellLines()
        #expect(lines.contains("kubectl create namespace demo"))
        #expect(lines.contains { $0.hasPrefix("kubectl create secret generic source -n demo --from-literal=") })
        let script =
            "set -euo pipefail\n"
            + lines.map {
                $0.replacingOccurrences(of: "swift run kbctl", with: kbctl).replacingOccurrences(of: "/tmp/vb.kubeconfig", with: kubeconfig)
            }.joined(separator: "\n")

        let playground = try BackgroundProgram.start("vectorblocks-playground", ["--kubeconfig-out", kubeconfig])
        try await playground.waitForOutput("serving until Ctrl-C")
        let kubectlDirectory = URL(fileURLWithPath: kubectl).deletingLastPathComponent().path
        let result = try await run(
            "/bin/bash", ["-c", script],
            environment: ["HOME": home.path, "PATH": "\(home.path)/.local/bin:\(kubectlDirectory):/usr/bin:/bin"])
        #expect(await playground.terminate() == 0, "\(playground.output)")

        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("namespace/demo created"), "\(result.output)")
        #expect(result.output.contains("secret/source created"), "\(result.output)")
        #expect(result.output.contains("Cluster vectors: Running"), "\(result.output)")
        #expect(result.output.contains("statefulset.apps/vectors-qdrant"), "\(result.output)")
        #expect(result.output.contains("kubectl vb is ready"), "\(result.output)")
        let listed = result.output.split(separator: "\n").last.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(listed?.prefix(3) == ["vectors", "demo", "qdrant"], "\(result.output)")
    }
}
