import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI

/// `kbctl install-plugin` and completion, with the real kubectl (VB_KUBECTL) running kbctl as `kubectl vb`.
@Suite("kubectl vb")
struct KubectlPluginTests {
    static func kubectl() throws -> String {
        guard let kubectl = ProcessInfo.processInfo.environment["VB_KUBECTL"], FileManager.default.isExecutableFile(atPath: kubectl) else {
            throw TestSetupError("VB_KUBECTL does not name kubectl: run the tests with ./scripts/test.sh, which sets it")
        }
        return kubectl
    }

    @Test func kubectlRunsAndCompletesTheInstalledPlugin() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        let kubectl = try Self.kubectl()
        try await withKubeSim { server, client in
            try await installVectorBlocksCRDs(client)
            let session = Session(client: client, namespace: "default")
            try await session.enableAddon("qdrant")
            _ = try await session.createCluster(ClusterCreation(name: "vectors", namespace: "default", definition: "qdrant", replicas: 3))

            let directory = try TemporaryDirectory()
            let plugins = directory.path + "/bin"
            let kubeconfig = directory.path + "/kubeconfig"
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let notOnPath = try await run(kbctl, ["install-plugin", "--dir", plugins], environment: ["PATH": "/usr/bin:/bin"])
            #expect(notOnPath.status == 0, "\(notOnPath.output)")
            #expect(notOnPath.output.contains("\(plugins)/kubectl-vb -> ") && notOnPath.output.contains("is not on PATH"), "\(notOnPath.output)")
            let environment = ["PATH": "\(plugins):/usr/bin:/bin", "HOME": directory.path, "KUBECONFIG": kubeconfig]
            // Again, now on PATH: the links are replaced.
            let onPath = try await run(kbctl, ["install-plugin", "--dir", plugins], environment: environment)
            #expect(onPath.output.contains("kubectl vb is ready"), "\(onPath.output)")
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: plugins + "/kubectl-vb") == URL(fileURLWithPath: kbctl).resolvingSymlinksInPath().path
            )

            let listed = try await run(kubectl, ["vb", "cluster", "list"], environment: environment)
            #expect(listed.status == 0, "\(listed.output)")
            #expect(KbctlTests.row("vectors", in: listed.output).prefix(3) == ["vectors", "default", "qdrant"], "\(listed.output)")
            let names = try await run(kubectl, ["vb", "-o", "name", "cluster", "list"], environment: environment)
            #expect(names.output == "cluster.apps.vectorblocks.io/vectors\n", "\(names.output)")
            let help = try await run(kubectl, ["vb", "--help"], environment: environment)
            #expect(help.output.contains("USAGE: kubectl-vb <subcommand>") && help.output.contains("kubectl vb cluster describe vectors"), "\(help.output)")

            // kubectl's own completion asks kubectl_complete-vb.
            func complete(_ words: [String]) async throws -> String {
                let result = try await run(kubectl, ["__complete", "vb"] + words, environment: environment)
                // kubectl's __complete writes its [Debug] lines and the directive's name to standard error.
                return result.output.split(separator: "\n").filter { !$0.hasPrefix("[Debug]") && !$0.hasPrefix("Completion ended") }
                    .map { $0 + "\n" }.joined()
            }
            #expect(try await complete(["cl"]) == "cluster\tManage clusters.\n:4\n")
            #expect(try await complete(["cluster", "h"]) == "hscale\tChange the number of replicas.\n:4\n")
            #expect(try await complete(["cluster", "list-b"]) == "list-backups\tList backups, of one cluster or all.\n:4\n")
            #expect(
                try await complete(["cluster", "restore", "copy", "--res"])
                    == "--restore-to-time\tRFC 3339 time to replay the WAL up to (pg-basebackup backups of clusters with spec.backup.pitrEnabled).\n:4\n")
            #expect(try await complete(["cluster", "list", "-o", ""]) == "table\nwide\nyaml\njson\nname\n:4\n")
            #expect(try await complete(["cluster", "hscale", "vectors", "--rep"]) == "--replicas\tReplicas wanted.\n:4\n")
        }
    }

    @Test func anotherProgramOfThatNameIsNotReplacedUnlessForced() async throws {
        let directory = try TemporaryDirectory()
        let other = directory.path + "/kubectl-vb"
        try "#!/bin/sh\necho other\n".write(toFile: other, atomically: true, encoding: .utf8)
        #expect { try KubectlPlugin.install(executable: "/bin/true", into: directory.path) } throws: {
            "\($0)".contains("\(other) exists and is not a link to kbctl; remove it, or pass --force")
        }
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "#!/bin/sh\necho other\n")
        let written = try KubectlPlugin.install(executable: "/bin/true", into: directory.path, copy: true, force: true)
        #expect(written == [other, directory.path + "/kubectl_complete-vb"])
        #expect(FileManager.default.contentsEqual(atPath: other, andPath: "/bin/true"))
        #expect(KubectlPlugin.isOnPath(directory.path + "/", path: "/usr/bin:\(directory.path)"))
    }

    /// The scripts for both names load in a real bash and register their completion functions; zsh's and fish's are
    /// generated for the right name.
    @Test func completionScriptsForBothNames() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        let directory = try TemporaryDirectory()
        for name in ["kbctl", "kubectl-vb"] {
            let script = directory.path + "/\(name).bash"
            let bash = try await run(kbctl, ["completion", "bash", "--for", name])
            #expect(bash.status == 0)
            try bash.output.write(toFile: script, atomically: true, encoding: .utf8)
            let loaded = try await run("/bin/bash", ["-c", "source \(script) && complete -p \(name)"])
            #expect(loaded.status == 0 && loaded.output == "complete -o filenames -F _\(name) \(name)\n", "\(loaded.output)")
            let zsh = try await run(kbctl, ["completion", "zsh", "--for", name])
            #expect(zsh.output.hasPrefix("#compdef \(name)"), "\(zsh.output.prefix(200))")
            #expect(zsh.output.contains("install-plugin") && zsh.output.contains("'table' 'wide' 'yaml' 'json' 'name'"), "\(zsh.output.prefix(200))")
        }
        let bad = try await run(kbctl, ["completion", "tcsh"])
        #expect(bad.status != 0 && bad.output.contains("shell \"tcsh\" is not one of zsh, bash, fish"), "\(bad.output)")
    }
}
