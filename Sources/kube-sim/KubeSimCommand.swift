import ArgumentParser
import Foundation
import KubeSim
import Logging
import ServiceLifecycle

/// Runs a KubeSim API server until SIGINT or SIGTERM.
@main
struct KubeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-sim", abstract: "An in-memory Kubernetes API server on loopback, for tests and the playground.")

    @Option(help: "Port to listen on (0 picks a free one).") var port = 0
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Write a kubeconfig for this server to this file.") var kubeconfig: String?
    @Option(help: "Require this bearer token (user \"admin\").") var token: String?
    @Option(help: "Namespace of the kubeconfig's context.") var namespace = "default"
    @Flag(help: "Serve HTTPS with a self-signed certificate (kubectl only sends tokens over TLS).") var tls = false
    @Flag(help: "Serve the API alone: no simulated scheduler, kubelets or workload controllers.") var noWorkloads = false
    @Option(help: "Milliseconds from a pod being scheduled to it running and ready.") var podReadyDelay = 200
    @Option(
        help:
            "How pods run: simulated (a status only) or processes (Linux, root: pods whose images are in --image-map run as processes in their own namespaces)."
    )
    var podRuntime: PodRuntimeChoice = .simulated
    @Option(help: "With --pod-runtime processes: a YAML image map (images: [{repository, bin, env, entrypoint}]).") var imageMap: String?
    @Option(help: "Chance (0-1) that a resource request fails with 500 InternalError.") var faultInternalErrorRate = 0.0
    @Option(help: "Chance (0-1) that a resource request fails with 429 TooManyRequests.") var faultTooManyRequestsRate = 0.0
    @Option(help: "Chance (0-1) that an update or patch fails with 409 Conflict.") var faultConflictRate = 0.0
    @Option(help: "Milliseconds added to every resource request.") var faultLatency = 0
    @Option(help: "Chance (0-1), after each watch event, that the server ends the watch.") var faultWatchDropRate = 0.0
    @Option(help: "Seed for reproducible faults.") var faultSeed: UInt64?

    func validate() throws {
        if podReadyDelay < 0 { throw ValidationError("--pod-ready-delay must be zero or more milliseconds") }
        if faultLatency < 0 { throw ValidationError("--fault-latency must be zero or more milliseconds") }
        if podRuntime == .processes && imageMap == nil {
            throw ValidationError("--pod-runtime processes needs --image-map FILE: which images run as which host programs")
        }
        if podRuntime == .processes && noWorkloads { throw ValidationError("--pod-runtime processes needs the workloads: drop --no-workloads") }
        if imageMap != nil && podRuntime != .processes { throw ValidationError("--image-map is only used with --pod-runtime processes") }
    }

    func run() async throws {
        var configuration = KubeSimConfiguration()
        if let token { configuration.tokens[token] = "admin" }
        configuration.tls = tls
        if !noWorkloads {
            var workloads = WorkloadSimulation()
            workloads.podReadyDelay = .milliseconds(podReadyDelay)
            if podRuntime == .processes, let imageMap {
                do {
                    workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: try ImageMap.load(path: imageMap)))
                } catch {
                    throw ValidationError("--image-map \(imageMap): \(error)")
                }
            }
            configuration.workloads = workloads
        }
        configuration.faults = FaultInjection(
            errorRates: ["*": .init(internalError: faultInternalErrorRate, tooManyRequests: faultTooManyRequestsRate, conflict: faultConflictRate)],
            latency: .milliseconds(faultLatency), watchDropRate: faultWatchDropRate, seed: faultSeed)
        let server = try await KubeSimServer.start(host: host, port: port, configuration: configuration)
        if let kubeconfig {
            try server.kubeconfigYAML(token: token, namespace: namespace).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            Self.log("wrote kubeconfig to \(kubeconfig)")
        }
        var logger = Logger(label: "kube-sim")
        logger.logLevel = .warning
        let listening = ServingAnnouncement { [baseURL = server.baseURL] in Self.log("listening on \(baseURL)") }
        try await ServiceGroup(configuration: .init(services: [server, listening], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            .run()
        Self.log("shut down")
    }

    private static func log(_ message: String) {
        FileHandle.standardOutput.write(Data("kube-sim: \(message)\n".utf8))
    }
}

enum PodRuntimeChoice: String, ExpressibleByArgument, CaseIterable {
    case simulated, processes
}
