import Foundation
import KubeKit
import TestSupport

/// Runs a Deployment's container as a local process, as a kubelet would start it: the environment from `envFrom`
/// ConfigMaps, then `env` with `secretKeyRef`s and `configMapKeyRef`s read from the API server and `$(NAME)`
/// expanded from the variables before it, and the container's `args`. So a test proves that what the builder wrote
/// runs, not a configuration of its own.
struct DeploymentProcess {
    var product: String
    var arguments: [String]
    var environment: [String: String]

    static func resolve(_ deployment: AppsV1.Deployment, client: KubeClient, extraArguments: [String] = []) async throws -> DeploymentProcess {
        let namespace = deployment.metadata?.namespace ?? "default"
        guard let container = deployment.spec?.template.spec?.containers.first else { throw TestSetupError("the Deployment has no container") }
        var environment: [String: String] = [:]
        for source in container.envFrom ?? [] {
            if let name = source.configMapRef?.name {
                let configMap = try await client.get(CoreV1.ConfigMap.self, name: name, namespace: namespace)
                for (key, value) in configMap.data ?? [:] { environment[(source.prefix ?? "") + key] = value }
            }
        }
        for variable in container.env ?? [] {
            if let value = variable.value {
                environment[variable.name] = expand(value, environment)
            } else if let reference = variable.valueFrom?.secretKeyRef {
                let secret = try await client.get(CoreV1.Secret.self, name: reference.name ?? "", namespace: namespace)
                guard let encoded = secret.data?[reference.key], let data = Data(base64Encoded: encoded) else {
                    throw TestSetupError("Secret \(reference.name ?? "")/\(reference.key) is missing: the pod would not start")
                }
                environment[variable.name] = String(decoding: data, as: UTF8.self)
            } else if let reference = variable.valueFrom?.configMapKeyRef {
                let configMap = try await client.get(CoreV1.ConfigMap.self, name: reference.name ?? "", namespace: namespace)
                environment[variable.name] = configMap.data?[reference.key]
            }
        }
        // The image's entrypoint is the product of the container's name (deploy/docker/<name>.Dockerfile).
        return DeploymentProcess(
            product: container.name, arguments: (container.args ?? []).map { expand($0, environment) } + extraArguments,
            environment: environment)
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

    func start() throws -> BackgroundProgram {
        try BackgroundProgram.start(product, arguments, environment: environment)
    }
}
