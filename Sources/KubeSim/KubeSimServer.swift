import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KubeKit
import Logging
import NIOCore
import ServiceLifecycle

/// A running KubeSim API server on loopback. Start one per test:
///
/// ```swift
/// let server = try await KubeSimServer.start()
/// defer { Task { try await server.shutdown() } }
/// let url = server.baseURL  // http://127.0.0.1:PORT
/// ```
public final class KubeSimServer: Sendable {
    public let port: Int
    public let host: String
    /// The PEM certificate clients must trust when the server runs with `tls`; nil for plain HTTP.
    public let certificateAuthorityPEM: String?
    let store: ClusterStore
    let counter: RequestCounter
    private let task: Task<Void, any Error>
    private let serviceGroup: ServiceGroup

    private init(
        host: String, port: Int, certificateAuthorityPEM: String?, store: ClusterStore, counter: RequestCounter,
        task: Task<Void, any Error>, serviceGroup: ServiceGroup
    ) {
        self.host = host
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.port = port
        self.store = store
        self.counter = counter
        self.task = task
        self.serviceGroup = serviceGroup
    }

    /// Starts a server; `port: 0` picks a free port. Returns once it is listening.
    public static func start(
        host: String = "127.0.0.1", port: Int = 0, configuration: KubeSimConfiguration = .init()
    ) async throws -> KubeSimServer {
        let store = ClusterStore(configuration: configuration)
        await store.bootstrap()
        let counter = RequestCounter()
        let responder = KubeSimResponder(store: store, counter: counter, configuration: configuration)
        var logger = Logger(label: "kube-sim")
        logger.logLevel = .warning
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let identity = configuration.tls ? try TLSIdentity.selfSigned(host: host) : nil
        let server: HTTPServerBuilder = try identity.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1()
        let application = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? port)
                portContinuation.finish()
            },
            logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let actualPort = await iterator.next() else {
            try await task.value
            throw KubeSimError.notStarted
        }
        return KubeSimServer(host: host, port: actualPort, certificateAuthorityPEM: identity?.certificatePEM, store: store, counter: counter, task: task, serviceGroup: serviceGroup)
    }

    public var baseURL: String { "\(certificateAuthorityPEM == nil ? "http" : "https")://\(host):\(port)" }

    /// A kubeconfig with cluster `kube-sim`, user `kube-sim-user`, context `kube-sim` as the current context.
    public func kubeconfigYAML(token: String?, namespace: String = "default") -> String {
        let user = token.map { "    token: \($0)" } ?? "    {}"
        let authority = certificateAuthorityPEM.map { "\n    certificate-authority-data: \(Data($0.utf8).base64EncodedString())" } ?? ""
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: kube-sim
              cluster:
                server: \(baseURL)\(authority)
            users:
            - name: kube-sim-user
              user:
            \(user)
            contexts:
            - name: kube-sim
              context:
                cluster: kube-sim
                user: kube-sim-user
                namespace: \(namespace)
            current-context: kube-sim

            """
    }

    /// A bearer token for an existing ServiceAccount: requests with it are made as
    /// `system:serviceaccount:<namespace>:<name>` and, with `rbac` on, allowed what that account is bound to.
    public func serviceAccountToken(namespace: String, name: String) async throws -> String {
        do {
            return try await store.issueServiceAccountToken(namespace: namespace, name: name)
        } catch {
            throw KubeSimError.serviceAccountNotFound(namespace: namespace, name: name)
        }
    }

    /// Requests served so far, by verb and resource.
    public func requestCounts() async -> [RequestKey: Int] {
        await counter.snapshot()
    }

    public func resetRequestCounts() async {
        await counter.reset()
    }

    /// The current global resourceVersion.
    public func currentResourceVersion() async -> Int64 {
        await store.currentResourceVersion()
    }

    /// Ends open watches and stops the server.
    public func shutdown() async throws {
        await store.closeAllWatches()
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
    }
}

public enum KubeSimError: Error, Sendable {
    case notStarted
    case serviceAccountNotFound(namespace: String, name: String)
}
