/// kbctl's global flags (`--kubeconfig`, `--context`, `-n/--namespace`, `-o/--output`) are accepted before the
/// subcommand as well as after it, as cobra's persistent flags are in kubectl and kbcli: the ones written before the
/// first subcommand word move behind the whole command line, where every command's option group reads them.
public enum GlobalFlags {
    /// Flags that take a value, in both spellings.
    static let valued: Set<String> = ["--kubeconfig", "--context", "-n", "--namespace", "-o", "--output"]

    public static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if valued.contains(argument), index + 1 < arguments.endIndex {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if let name = argument.split(separator: "=", maxSplits: 1).first, argument.contains("="), valued.contains(String(name)) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        // Behind `--`, everything is positional: the flags go before it.
        if let terminator = rest.firstIndex(of: "--") {
            return Array(rest[..<terminator]) + leading + Array(rest[terminator...])
        }
        return rest + leading
    }
}
