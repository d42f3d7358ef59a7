import KubeKit

/// What went wrong, in words a person can act on: what happened and the command or value that fixes it.
public struct CLIError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    /// The API's refusals and transport failures turned into advice.
    public static func from(_ error: any Error, resource: ResourceDescriptor? = nil, verb: String = "get") -> CLIError {
        if let error = error as? CLIError { return error }
        if let error = error as? KubeAPIError {
            if error.isForbidden {
                let what = resource.map { "\($0.qualifiedResource)" } ?? "this resource"
                return CLIError(
                    "forbidden: your user may not \(verb) \(what): \(error.message); ask an admin for a Role that allows \"\(verb)\" on \"\(what)\"")
            }
            if error.isNotFound, let resource, resource.group == "apps.vectorblocks.io",
                error.message.contains("the server could not find the requested resource")
            {
                return notInstalled
            }
            return CLIError(error.message.isEmpty ? "\(error)" : error.message)
        }
        if let error = error as? KubeClientError {
            return CLIError("no cluster reachable: \(error); check --kubeconfig and --context (or KUBECONFIG), and that the API server is up")
        }
        return CLIError("\(error)")
    }

    public static let notInstalled = CLIError(
        "the VectorBlocks CRDs are not installed in this cluster: run `kbctl install` (or kubectl apply -f crds/)")
}
