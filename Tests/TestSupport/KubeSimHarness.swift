import Foundation
import KubeKit
import KubeSim
import Metrics

/// Runs `body` with a KubeSim server on a free port on 127.0.0.1 and a client of it, and stops both afterwards,
/// whether the body succeeds or throws. With `workloads`, the simulated kubelets and controllers run (with their
/// default delays unless `configuration.workloads` sets others), so StatefulSets get pods that become Ready.
public func withKubeSim<Result: Sendable>(
    configuration: KubeSimConfiguration = .init(), workloads: Bool = false, token: String? = nil, namespace: String = "default",
    retryPolicy: RetryPolicy = .init(), metricsFactory: (any MetricsFactory)? = nil,
    _ body: (KubeSimServer, KubeClient) async throws -> Result
) async throws -> Result {
    var configuration = configuration
    if workloads, configuration.workloads == nil { configuration.workloads = WorkloadSimulation() }
    let server = try await KubeSimServer.start(configuration: configuration)
    let client: KubeClient
    do {
        let clientConfiguration = try KubeClientConfiguration(
            server: server.baseURL, namespace: namespace, credentials: token.map { .bearerToken($0) } ?? .none,
            retryPolicy: retryPolicy, metricsFactory: metricsFactory)
        client = try KubeClient(configuration: clientConfiguration)
    } catch {
        try await server.shutdown()
        throw error
    }
    do {
        let result = try await body(server, client)
        try await client.shutdown()
        try await server.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        try? await server.shutdown()
        throw error
    }
}
