import ArgumentParser
import Foundation
import VectorBlocksCLI

/// `kbctl install-plugin`: kbctl as `kubectl vb`.
struct InstallPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-plugin", abstract: "Install kbctl as the kubectl plugin `kubectl vb` (kubectl-vb and kubectl_complete-vb).",
        discussion: """
            Links kubectl-vb (kubectl runs it for `kubectl vb`) and kubectl_complete-vb (kubectl asks it for the
            completions of `kubectl vb …`) to this kbctl, as `kubectl cnpg` is installed.
            Examples:
              kbctl install-plugin
              kbctl install-plugin --dir ~/.local/bin && kubectl vb cluster list
            """)
    @Option(help: "Where to put them (default: the directory kbctl is in); it must be on PATH.", completion: .directory) var dir: String?
    @Flag(help: "Copy kbctl instead of linking to it.") var copy = false
    @Flag(help: "Replace files of those names that are not links.") var force = false

    func run() throws {
        let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath().path
        let directory = dir ?? URL(fileURLWithPath: executable).deletingLastPathComponent().path
        do {
            for path in try KubectlPlugin.install(executable: executable, into: directory, copy: copy, force: force) {
                Terminal.print("\(path) -> \(executable)\(copy ? " (copied)" : "")\n")
            }
        } catch let error as CLIError {
            Terminal.fail(error.description)
        }
        if KubectlPlugin.isOnPath(directory, path: ProcessInfo.processInfo.environment["PATH"]) {
            Terminal.print("kubectl vb is ready: kubectl vb cluster list\n")
        } else {
            Terminal.print("\(directory) is not on PATH, where kubectl looks for plugins: export PATH=\"\(directory):$PATH\"\n")
        }
    }
}

/// `kbctl completion bash|zsh|fish`.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print a shell completion script for kbctl or for kubectl-vb.",
        discussion: """
            `kubectl vb …` itself completes through kubectl's own completion once install-plugin has put
            kubectl_complete-vb on PATH (kubectl 1.26 and later).
            Examples:
              source <(kbctl completion bash)
              kbctl completion zsh > "${fpath[1]}/_kbctl"
              source <(kbctl completion bash --for kubectl-vb)
            """)
    @Argument(help: "bash, zsh or fish.", completion: .list(CompletionShell.allCases.map(\.rawValue))) var shell: String
    @Option(name: .customLong("for"), help: "The command's name: kbctl or kubectl-vb.", completion: .list(["kbctl", KubectlPlugin.command]))
    var name = "kbctl"

    func run() throws {
        guard let completionShell = CompletionShell(rawValue: shell) else {
            throw ValidationError("shell \"\(shell)\" is not one of \(CompletionShell.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let script: String
        switch name {
        case "kbctl": script = Kbctl.completionScript(for: completionShell)
        case KubectlPlugin.command: script = KubectlVB.completionScript(for: completionShell)
        default: throw ValidationError("--for \"\(name)\" is not kbctl or \(KubectlPlugin.command)")
        }
        Terminal.print(script.hasSuffix("\n") ? script : script + "\n")
    }
}

/// What kbctl answers when kubectl runs it as kubectl_complete-vb.
enum PluginCompletionAnswer {
    static func answer(_ arguments: [String]) -> String {
        guard let completion = try? PluginCompletion(dump: Kbctl._dumpHelp()) else { return ":4\n" }
        return completion.answer(arguments)
    }
}
