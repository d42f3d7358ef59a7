import Foundation
import KubeKit
import KubeSim

/// Runs a Deployment's container as a local process, as a kubelet would start it: the environment from `envFrom`
/// ConfigMaps, then `env` with `secretKeyRef`s and `configMapKeyRef`s read from the API server and `$(NAME)`
/// expanded from the variables before it, and the container's `args`. So a test proves that what the builder wrote
/// runs, not a configuration of its own.
public struct DeploymentProcess: Sendable {
    public var product: String
    public var arguments: [String]
    public var environment: [String: String]

    public static func resolve(_ deployment: AppsV1.Deployment, client: KubeClient, extraArguments: [String] = []) async throws -> DeploymentProcess {
        let namespace = deployment.metadata?.namespace ?? "default"
        guard let container = deployment.spec?.template.spec?.containers.first else { throw ResolveError(description: "the Deployment has no container") }
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
                    throw ResolveError(description: "Secret \(reference.name ?? "")/\(reference.key) is missing: the pod would not start")
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

    /// A container the kubelet could not start: its configuration names what is missing.
    public struct ResolveError: Error, CustomStringConvertible {
        public var description: String
    }

    private static func expand(_ text: String, _ variables: [String: String]) -> String {
        VariableExpansion.expand(text, with: variables)
    }
}
