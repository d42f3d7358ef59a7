import Foundation
import KubeKit
import KubeSim
import Metrics

/// How the client `withKubeSim` hands a test reaches the server.
public enum KubeSimClientTransport: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Requests go to the server's handler in this process: the API server's semantics without sockets or HTTP.
    case inProcess
    /// Requests go over HTTP on loopback: for tests of the client, the wire, or anything between them.
    case http

    public var description: String { rawValue }

    /// `VB_TEST_KUBE_TRANSPORT=http` sends every test's requests over HTTP, to check that nothing passes only
    /// in-process and to compare the two.
    public static var standard: KubeSimClientTransport {
        ProcessInfo.processInfo.environment["VB_TEST_KUBE_TRANSPORT"] == "http" ? .http : .inProcess
    }
}

/// Runs `body` with a KubeSim server on a free port on 127.0.0.1 and a client of it, and stops both afterwards,
/// whether the body succeeds or throws. With `workloads`, the simulated kubelets and controllers run (with their
/// default delays unless `configuration.workloads` sets others), so StatefulSets get pods that become Ready.
/// The client reaches the server in-process unless `transport` (or `VB_TEST_KUBE_TRANSPORT=http`) says HTTP;
/// `server.baseURL` serves HTTP either way, for kubectl, kbctl and proxies.
public func withKubeSim<Result: Sendable>(
    configuration: KubeSimConfiguration = .init(), workloads: Bool = false, token: String? = nil, namespace: String = "default",
    retryPolicy: RetryPolicy = .init(), metricsFactory: (any MetricsFactory)? = nil, transport: KubeSimClientTransport = .standard,
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
        switch transport {
        case .inProcess: client = KubeClient(configuration: clientConfiguration, transport: server.inProcessTransport())
        case .http: client = try KubeClient(configuration: clientConfiguration)
        }
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
