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
    static let configuration = CommandConfiguration(
        commandName: "kbctl",
        abstract: "Create, scale and expose Qdrant and pgvector clusters run by the VectorBlocks operator.",
        discussion: """
            Examples:
              kbctl addon enable qdrant
              kbctl cluster create vectors --cluster-definition qdrant --replicas 3 --wait
              kbctl cluster describe vectors
              kbctl cluster hscale vectors --components qdrant --replicas 5 --wait
              kbctl cluster expose vectors --type vpc --enable true
            """,
        subcommands: [InstallCommand.self, UninstallCommand.self, ClusterCommand.self, PipelineCommand.self, AddonCommand.self])

    /// Global flags may come before the subcommand (`kbctl --kubeconfig F cluster list`), as with kubectl.
    static func main() async {
        do {
            var command = try parseAsRoot(GlobalFlags.hoisted(Array(CommandLine.arguments.dropFirst())))
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The options every command takes, as kubectl names them.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config).") var kubeconfig: String?
    @Option(help: "The kubeconfig context to use.") var context: String?
    @Option(name: [.customShort("n"), .long], help: "The namespace (default: the context's).") var namespace: String?
    @Option(name: [.customShort("o"), .long], help: "Output format: table, wide, yaml or json.") var output: String = "table"

    func validate() throws {
        guard OutputFormat(rawValue: output) != nil else {
            throw ValidationError("-o \"\(output)\" is not one of table, wide, yaml, json")
        }
    }

    /// Runs `body` with a session, printing a failure as one line a person can act on, and exiting 1.
    func run(_ body: (Session) async throws -> Void) async throws {
        do {
            let configuration = try KubeClientConfiguration.load(kubeconfigPath: kubeconfig, context: context)
            let client = try KubeClient(configuration: configuration)
            let session = Session(
                client: client, namespace: namespace, format: OutputFormat(rawValue: output) ?? .table, width: Terminal.width)
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
