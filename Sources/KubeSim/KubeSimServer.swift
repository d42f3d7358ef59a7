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
    let faultInjector: FaultInjector
    let workloads: WorkloadControllers?
    let responder: FaultInjectingResponder
    private let task: Task<Void, any Error>
    private let serviceGroup: ServiceGroup

    private init(
        host: String, port: Int, certificateAuthorityPEM: String?, store: ClusterStore, counter: RequestCounter,
        faultInjector: FaultInjector, workloads: WorkloadControllers?, responder: FaultInjectingResponder, task: Task<Void, any Error>,
        serviceGroup: ServiceGroup
    ) {
        self.faultInjector = faultInjector
        self.responder = responder
        self.workloads = workloads
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
        if let problem = configuration.faults.problem { throw KubeSimError.invalidFaults(problem) }
        let store = ClusterStore(configuration: configuration)
        await store.bootstrap()
        let counter = RequestCounter()
        let faultInjector = FaultInjector(configuration.faults)
        let responder = FaultInjectingResponder(
            base: KubeSimResponder(store: store, counter: counter, configuration: configuration), injector: faultInjector)
        var logger = Logger(label: "kube-sim")
        logger.logLevel = .warning
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        // With pods that run, the network comes first: the serving certificate names the `kubernetes` Service's address.
        var runtime: ProcessRuntime?
        if case .processes(let settings)? = configuration.workloads?.runtime {
            do {
                runtime = try await ProcessRuntime.start(store: store, settings: settings, host: host, tls: configuration.tls)
            } catch {
                throw KubeSimError.podRuntime(error.description)
            }
        }
        let server: HTTPServerBuilder
        let identity: TLSIdentity?
        do {
            identity = try runtime?.identity ?? (configuration.tls ? TLSIdentity.selfSigned(host: host) : nil)
            server = try identity.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1()
        } catch {
            await runtime?.shutdown()
            throw error
        }
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
            await runtime?.shutdown()
            try await task.value
            throw KubeSimError.notStarted
        }
        var workloads: WorkloadControllers?
        do {
            try await runtime?.publishAPIServer(host: host, port: actualPort)
            if let simulation = configuration.workloads {
                workloads = await WorkloadControllers.start(store: store, simulation: simulation, runtime: runtime)
            }
        } catch {
            await runtime?.shutdown()
            await store.closeAllWatches()
            await serviceGroup.triggerGracefulShutdown()
            try? await task.value
            throw KubeSimError.podRuntime("\(error)")
        }
        return KubeSimServer(
            host: host, port: actualPort, certificateAuthorityPEM: identity?.certificatePEM, store: store, counter: counter,
            faultInjector: faultInjector, workloads: workloads, responder: responder, task: task, serviceGroup: serviceGroup)
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

    /// The writes answered so far, oldest first (the latest 100,000), with who sent them.
    public func writeLog() async -> [WriteRecord] {
        await counter.writeLog()
    }

    public func resetRequestCounts() async {
        await counter.reset()
    }

    /// The current global resourceVersion.
    public func currentResourceVersion() async -> Int64 {
        await store.currentResourceVersion()
    }

    /// The faults injected now.
    public func faults() async -> FaultInjection {
        await faultInjector.faults
    }

    /// Changes the faults injected from the next request on (`.none` stops them); a seed restarts the random sequence.
    public func setFaults(_ faults: FaultInjection) async throws(KubeSimError) {
        if let problem = faults.problem { throw KubeSimError.invalidFaults(problem) }
        await faultInjector.set(faults)
    }

    /// Ends open watches and stops the server.
    public func shutdown() async throws {
        await workloads?.stop()
        await store.closeAllWatches()
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
    }
}

public enum KubeSimError: Error, Sendable, Equatable, CustomStringConvertible {
    case notStarted
    /// The fault settings cannot be used; the text names the field and the fix.
    case invalidFaults(String)
    /// A pod test control was used on a server started without `KubeSimConfiguration.workloads`.
    case workloadsNotSimulated
    case podNotFound(namespace: String, name: String)
    /// A node fault named a node the simulation does not have.
    case nodeNotFound(String)
    case serviceAccountNotFound(namespace: String, name: String)
    /// A process-runtime fault was aimed at a pod that does not run as processes, or cannot take it.
    case podNotRunningProcesses(namespace: String, name: String, why: String)
    /// The process pod runtime cannot run on this host; the text names what is missing.
    case podRuntime(String)

    public var description: String {
        switch self {
        case .notStarted: "the server did not start listening"
        case .invalidFaults(let problem): "invalid fault injection: \(problem)"
        case .workloadsNotSimulated: "pods are not simulated: start the server with KubeSimConfiguration.workloads set"
        case .podNotFound(let namespace, let name): "pod \"\(name)\" not found in namespace \"\(namespace)\""
        case .nodeNotFound(let name): "node \"\(name)\" not found: use one of WorkloadSimulation.nodeNames"
        case .serviceAccountNotFound(let namespace, let name): "service account \"\(name)\" not found in namespace \"\(namespace)\""
        case .podNotRunningProcesses(let namespace, let name, let why): "pod \"\(name)\" in namespace \"\(namespace)\": \(why)"
        case .podRuntime(let problem): problem
        }
    }
}
