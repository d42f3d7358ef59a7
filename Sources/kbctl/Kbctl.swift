import ArgumentParser
import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Kbctl: AsyncParsableCommand {
    static let examples = """
        Examples:
          kbctl addon enable qdrant
          kbctl cluster create vectors --cluster-definition qdrant --replicas 3 --wait
          kbctl cluster describe vectors
          kbctl cluster hscale vectors --components qdrant --replicas 5 --wait
          kbctl cluster expose vectors --type vpc --enable true
          kbctl install-plugin && kubectl vb cluster list
        """
    static let abstract = "Create, scale and expose Qdrant and pgvector clusters run by the VectorBlocks operator."
    static let subcommands: [any ParsableCommand.Type] = [
        InstallCommand.self, UninstallCommand.self, ClusterCommand.self, PipelineCommand.self, AddonCommand.self,
        InstallPluginCommand.self, CompletionCommand.self,
    ]
    static let configuration = CommandConfiguration(commandName: "kbctl", abstract: abstract, discussion: examples, subcommands: subcommands)

    /// Global flags may come before the subcommand (`kbctl --kubeconfig F cluster list`), as with kubectl. The name
    /// kbctl was started by picks the root: `kubectl-vb` (kubectl running it as a plugin) or `kubectl_complete-vb`
    /// (kubectl asking for completions).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let root: any ParsableCommand.Type
        switch URL(fileURLWithPath: CommandLine.arguments.first ?? "kbctl").lastPathComponent {
        case KubectlPlugin.completer:
            Terminal.print(PluginCompletionAnswer.answer(arguments))
            return
        case KubectlPlugin.command:
            root = KubectlVB.self
        default:
            root = Kbctl.self
        }
        do {
            var command = try root.parseAsRoot(GlobalFlags.hoisted(arguments))
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            root.exit(withError: error)
        }
    }
}

/// kbctl under the name kubectl runs it by (`kubectl vb …`): the same commands, the plugin's name in help and in its
/// completion script.
struct KubectlVB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: KubectlPlugin.command, abstract: Kbctl.abstract,
        discussion: Kbctl.examples.replacingOccurrences(of: "  kbctl ", with: "  kubectl vb "), subcommands: Kbctl.subcommands)
}

/// The options every command takes, as kubectl names them.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config).", completion: .file()) var kubeconfig: String?
    @Option(help: "The kubeconfig context to use.") var context: String?
    @Option(name: [.customShort("n"), .long], help: "The namespace (default: the context's).") var namespace: String?
    @Option(
        name: [.customShort("o"), .long], help: "Output format: table, wide, yaml, json or name (each command says which it gives).",
        completion: .list(OutputFormat.allCases.map(\.rawValue))) var output: String = "table"

    /// Runs `command`'s `body` with a session, printing a failure as one line a person can act on, and exiting 1.
    /// A format the command cannot give is refused before anything is read or written.
    func run(_ command: KbctlCommand, _ body: (Session) async throws -> Void) async throws {
        do {
            let format = try command.check(output)
            let configuration = try KubeClientConfiguration.load(kubeconfigPath: kubeconfig, context: context)
            let client = try KubeClient(configuration: configuration)
            let session = Session(client: client, namespace: namespace, format: format, width: Terminal.width)
            do {
                try await body(session)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        } catch let error as CLIError {
            Terminal.fail(error.description)
        } catch let error as KubeConfigurationError {
            Terminal.fail("no cluster configured: \(error); pass --kubeconfig or set KUBECONFIG")
        } catch {
            Terminal.fail(CLIError.from(error).description)
        }
    }
}

enum Terminal {
    static var isTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns of the terminal when printing to one; nil (no fitting) otherwise.
    static var width: Int? {
        guard isTTY else { return nil }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
    }

    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func fail(_ message: String) -> Never {
        let red = isatty(STDERR_FILENO) == 1 ? "\u{1B}[31merror:\u{1B}[0m" : "error:"
        FileHandle.standardError.write(Data("\(red) \(message)\n".utf8))
        exit(1)
    }

    /// A line about progress: on standard output beside a table, on standard error beside `-o yaml|json|name`.
    static func progressLine(_ line: String, format: OutputFormat) {
        if [.table, .wide].contains(format) {
            print(line)
        } else {
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Replaces kbctl with `path`, run with `arguments` (the first its name) and exactly `environment`.
    static func exec(_ path: String, arguments: [String], environment: [String: String]) -> Never {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        fail("cannot run \(path): \(String(cString: strerror(errno)))")
    }

    /// Progress beside `-o yaml|json|name` goes to standard error, so standard output stays one document.
    static func progressToStandardError(_ ops: OpsRequest) {
        let line = "OpsRequest \(ops.metadata?.name ?? ""): \(ops.status?.phase?.rawValue ?? "Pending") \(ops.status?.progress ?? "-/-")\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// A live progress line on a terminal, plain lines otherwise.
    static func progress(_ ops: OpsRequest) {
        let line = "OpsRequest \(ops.metadata?.name ?? ""): \(ops.status?.phase?.rawValue ?? "Pending") \(ops.status?.progress ?? "-/-")"
        if isTTY {
            print("\r\u{1B}[2K\(line)")
            if [.succeed, .failed, .cancelled].contains(ops.status?.phase) { print("\n") }
        } else {
            print(line + "\n")
        }
    }
}
