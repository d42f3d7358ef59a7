/// Kubernetes' `$(VAR)` expansion of a container's command, args and env values, as the kubelet does it; public so
/// that whoever starts a pod's process outside KubeSim (a benchmark, a test) expands exactly the same way.
public enum VariableExpansion {
    /// Kubernetes' `$(VAR)` expansion: a defined VAR is replaced, `$$` is a literal `$`, anything else stays as written.
    public static func expand(_ text: String, with variables: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest.index(after: dollar)
            if after < rest.endIndex, rest[after] == "$" {
                result += "$"
                rest = rest[rest.index(after: after)...]
            } else if after < rest.endIndex, rest[after] == "(", let close = rest[after...].firstIndex(of: ")") {
                let name = String(rest[rest.index(after: after)..<close])
                result += variables[name] ?? "$(\(name))"
                rest = rest[rest.index(after: close)...]
            } else {
                result += "$"
                rest = rest[after...]
            }
        }
        return result + rest
    }
}
