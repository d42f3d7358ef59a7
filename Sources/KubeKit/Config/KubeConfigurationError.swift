/// Why a client could not be configured. Messages name the file or field and say what to do; they never contain a
/// credential.
public enum KubeConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case noKubeconfig(searched: [String])
    case unreadableFile(path: String, purpose: String)
    case invalidKubeconfig(source: String, reason: String)
    case noCurrentContext
    case unknownContext(String, available: [String])
    case unknownCluster(String, context: String)
    case unknownUser(String, context: String)
    case invalidServer(String)
    case invalidCertificate(field: String, reason: String)
    case notInCluster(missing: String)
    case execPluginFailed(command: String, reason: String)

    public var description: String {
        switch self {
        case .noKubeconfig(let searched):
            let list = searched.isEmpty ? "no path given" : searched.joined(separator: ", ")
            return "no kubeconfig found (looked at \(list)); pass --kubeconfig, set KUBECONFIG, or run in a pod"
        case .unreadableFile(let path, let purpose):
            return "cannot read \(purpose) file \(path): check that it exists and is readable"
        case .invalidKubeconfig(let source, let reason):
            return "invalid kubeconfig \(source): \(reason)"
        case .noCurrentContext:
            return "the kubeconfig has no current-context: pass --context or run `kubectl config use-context NAME`"
        case .unknownContext(let name, let available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "context \"\(name)\" is not in the kubeconfig (contexts: \(list))"
        case .unknownCluster(let name, let context):
            return "context \"\(context)\" names cluster \"\(name)\", which is not in the kubeconfig"
        case .unknownUser(let name, let context):
            return "context \"\(context)\" names user \"\(name)\", which is not in the kubeconfig"
        case .invalidServer(let server):
            return "cluster server \"\(server)\" is not an http(s) URL such as https://host:6443"
        case .invalidCertificate(let field, let reason):
            return "\(field): \(reason)"
        case .notInCluster(let missing):
            return "not running in a Kubernetes pod: \(missing) is missing"
        case .execPluginFailed(let command, let reason):
            return "exec credential plugin \(command) failed: \(reason)"
        }
    }
}
