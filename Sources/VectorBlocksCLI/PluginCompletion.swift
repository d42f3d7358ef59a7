import Foundation
import KubeKit

/// Completions for `kubectl vb …`, answered as kubectl's cobra asks a plugin's `kubectl_complete-<name>` for them:
/// the arguments typed after the plugin's name, the last one the word being completed; one candidate a line (with
/// a tab and its description), then `:<directive>` (4: no file names). The command tree is ArgumentParser's own
/// description of kbctl (`--experimental-dump-help`), so the completions follow the commands as they change.
public struct PluginCompletion: Sendable {
    /// A command of the tree, as the dump describes it.
    struct Command: Decodable, Sendable {
        var commandName: String
        var abstract: String?
        var shouldDisplay: Bool?
        var subcommands: [Command]?
        var arguments: [Argument]?
    }

    struct Argument: Decodable, Sendable {
        struct Name: Decodable, Sendable {
            var kind: String
            var name: String
            var spelled: String { kind == "short" ? "-\(name)" : "--\(name)" }
        }
        var kind: String
        var names: [Name]?
        var abstract: String?
        var shouldDisplay: Bool?
        var completionKind: JSONValue?

        /// The values the argument lists for completion (`-o`'s formats, a shell's names).
        var listedValues: [String] {
            completionKind?["list"]?["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
    }

    struct ToolInfo: Decodable, Sendable {
        var command: Command
    }

    /// cobra's ShellCompDirectiveNoFileComp.
    static let noFiles = ":4"

    let root: Command

    /// `dump` is the JSON `--experimental-dump-help` prints.
    public init(dump: String) throws {
        root = try JSONDecoder().decode(ToolInfo.self, from: Data(dump.utf8)).command
    }

    /// What to print for `arguments` (the words after `kubectl vb`; the last is the one being completed).
    public func answer(_ arguments: [String]) -> String {
        let typed = arguments.dropLast()
        let word = arguments.last ?? ""
        var command = root
        var expectsValueOf: Argument?
        for argument in typed {
            if expectsValueOf != nil {
                expectsValueOf = nil  // the option's value, already typed
            } else if argument.hasPrefix("-") {
                let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
                if let option = Self.option(named: name, in: command), option.kind == "option", !argument.contains("=") {
                    expectsValueOf = option
                }
            } else if let subcommand = command.subcommands?.first(where: { $0.commandName == argument }) {
                command = subcommand
            }
        }
        var candidates: [String]
        if let option = expectsValueOf {
            candidates = option.listedValues.filter { $0.hasPrefix(word) }
        } else if word.hasPrefix("-") {
            candidates = (command.arguments ?? []).filter { $0.shouldDisplay != false && $0.kind != "positional" }.flatMap { argument in
                (argument.names ?? []).map(\.spelled).filter { $0.hasPrefix(word) }.map { Self.line($0, argument.abstract) }
            }
        } else {
            candidates = (command.subcommands ?? []).filter { $0.shouldDisplay != false && $0.commandName != "help" && $0.commandName.hasPrefix(word) }
                .map { Self.line($0.commandName, $0.abstract) }
        }
        return (candidates + [Self.noFiles]).joined(separator: "\n") + "\n"
    }

    static func option(named name: String, in command: Command) -> Argument? {
        (command.arguments ?? []).first { ($0.names ?? []).contains { $0.spelled == name } }
    }

    static func line(_ candidate: String, _ description: String?) -> String {
        guard let description, !description.isEmpty else { return candidate }
        let firstLine = description.split(separator: "\n").first.map(String.init) ?? description
        return "\(candidate)\t\(firstLine)"
    }
}
