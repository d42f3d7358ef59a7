import Foundation
import KubeKit

/// Starts a Deployment's replicas as local processes of this package's executables, as a kubelet would start its
/// pods: the environment from `envFrom` ConfigMaps, then `env` with `secretKeyRef`s read from the API server and
/// `$(NAME)` expanded from the variables before it, and the container's `args`. Until KubeSim's pods run processes,
/// this is how a benchmark runs what the operator wrote.
struct DeploymentLauncher {
    let client: KubeClient
    /// Where the executables are: next to this benchmark.
    let productsDirectory: URL

    func start(_ deployment: AppsV1.Deployment, replicas: Int, extraArguments: [String]) async throws -> [Process] {
        let namespace = deployment.metadata?.namespace ?? "default"
        guard let container = deployment.spec?.template.spec?.containers.first else {
            throw LaunchError("Deployment \(deployment.metadata?.name ?? "") has no container")
        }
        var environment = ProcessInfo.processInfo.environment
        for source in container.envFrom ?? [] {
            guard let name = source.configMapRef?.name else { continue }
            let configMap = try await client.get(CoreV1.ConfigMap.self, name: name, namespace: namespace)
            for (key, value) in configMap.data ?? [:] { environment[(source.prefix ?? "") + key] = value }
        }
        for variable in container.env ?? [] {
            if let value = variable.value {
                environment[variable.name] = Self.expand(value, environment)
            } else if let reference = variable.valueFrom?.secretKeyRef {
                let secret = try await client.get(CoreV1.Secret.self, name: reference.name ?? "", namespace: namespace)
                guard let encoded = secret.data?[reference.key], let data = Data(base64Encoded: encoded) else {
                    throw LaunchError("Secret \(reference.name ?? "") has no key \(reference.key)")
                }
                environment[variable.name] = String(decoding: data, as: UTF8.self)
            }
        }
        // The image's entrypoint is the executable the container is named after (deploy/docker/<name>.Dockerfile).
        let executable = productsDirectory.appendingPathComponent(container.name)
        let arguments = (container.args ?? []).map { Self.expand($0, environment) } + extraArguments
        return try (0..<replicas).map { _ in
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
    }

    /// Kubernetes' `$(NAME)` expansion: a defined variable is replaced, `$$` is a literal `$`, anything else stays.
    static func expand(_ text: String, _ variables: [String: String]) -> String {
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("$$") {
                result += "$"
                index = text.index(index, offsetBy: 2)
            } else if rest.hasPrefix("$("), let close = rest.firstIndex(of: ")"),
                let value = variables[String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close])]
            {
                result += value
                index = text.index(after: close)
            } else {
                result.append(text[index])
                index = text.index(after: index)
            }
        }
        return result
    }

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
