import ArgumentParser
import Foundation
import KubeKit
import Logging
import Metrics
import OperatorKit
import Prometheus
import ServiceLifecycle
import VectorBlocksOperator

/// The operator process: flags (with VB_* environment fallbacks, for the Deployment's env), logging and metrics
/// set up, and the manager and its endpoints run in one service group that stops gracefully on SIGTERM.
@main
struct VectorBlocksOperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-operator",
        abstract: "Runs Qdrant and pgvector clusters on Kubernetes from Cluster resources.",
        discussion: """
            In a pod it uses its service account; elsewhere --kubeconfig, KUBECONFIG or ~/.kube/config.
            Examples:
              vectorblocks-operator --namespaces databases,search --log-format json
              vectorblocks-operator --kubeconfig ~/.kube/config --no-leader-elect
            """)

    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Path to a kubeconfig; without it: KUBECONFIG, then the pod's service account, then ~/.kube/config.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use.")
    var context: String?

    @Option(help: "Comma-separated namespaces whose Clusters to manage; empty for all (env VB_WATCH_NAMESPACES).")
    var namespaces: String = environment["VB_WATCH_NAMESPACES"] ?? ""

    @Option(help: "Concurrent reconciles per controller (env VB_WORKERS).")
    var workers: Int = environment["VB_WORKERS"].flatMap(Int.init) ?? 4

    @Flag(inversion: .prefixedNo, help: "Elect one active replica through a Lease (env VB_LEADER_ELECT=false to turn off).")
    var leaderElect: Bool = environment["VB_LEADER_ELECT"] != "false"

    @Option(help: "Namespace of the leader election Lease; default: the operator's own namespace.")
    var leaderElectionNamespace: String?

    @Option(help: "Name of the leader election Lease.")
    var leaderElectionID: String = "vectorblocks-operator"

    @Option(help: "Seconds a standby waits after the leader's last renewal before taking the lease.")
    var leaderElectionLeaseDuration: Int = 15

    @Option(help: "Seconds the leader keeps trying to renew before it stops writing and exits; less than the lease duration.")
    var leaderElectionRenewDeadline: Int = 10

    @Option(help: "Seconds between tries to take or renew the lease.")
    var leaderElectionRetryPeriod: Double = 2

    @Option(help: "Where /metrics listens, or 0 for nowhere (env VB_METRICS_BIND_ADDRESS).")
    var metricsBindAddress: String = environment["VB_METRICS_BIND_ADDRESS"] ?? ":8080"

    @Option(help: "Where /healthz and /readyz listen, or 0 for nowhere (env VB_HEALTH_PROBE_BIND_ADDRESS).")
    var healthProbeBindAddress: String = environment["VB_HEALTH_PROBE_BIND_ADDRESS"] ?? ":8081"

    @Option(help: "trace, debug, info, notice, warning, error or critical (env VB_LOG_LEVEL).")
    var logLevel: String = environment["VB_LOG_LEVEL"] ?? "info"

    @Option(help: "json (one object per line, zap's field names) or text (env VB_LOG_FORMAT).")
    var logFormat: String = environment["VB_LOG_FORMAT"] ?? "json"

    @Option(help: "The image of every VectorPipeline's Pelican; default: this release's (env VB_PELICAN_IMAGE).")
    var pelicanImage: String = environment["VB_PELICAN_IMAGE"] ?? PipelineImages.release.pelican

    @Option(help: "The image of every VectorPipeline's Emu; default: this release's (env VB_EMU_IMAGE).")
    var emuImage: String = environment["VB_EMU_IMAGE"] ?? PipelineImages.release.emu

    @Option(help: "The image of vectorblocks-backup, copied into pgvector backup Jobs; default: this release's (env VB_BACKUP_IMAGE).")
    var backupImage: String = environment["VB_BACKUP_IMAGE"] ?? OperatorManager.Options.releaseBackupImage

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        guard ["json", "text"].contains(logFormat) else {
            throw ValidationError("--log-format \"\(logFormat)\" is not json or text")
        }
        guard workers > 0 else { throw ValidationError("--workers must be at least 1") }
        guard !pelicanImage.isEmpty, !emuImage.isEmpty, !backupImage.isEmpty else {
            throw ValidationError("--pelican-image, --emu-image and --backup-image need an image reference, e.g. docker.io/vectorblocks/emu:0.1.0")
        }
        // client-go's rules: the leader must give up before a standby may take over, and try more than once first.
        guard leaderElectionRetryPeriod > 0, Double(leaderElectionRenewDeadline) > leaderElectionRetryPeriod,
            leaderElectionLeaseDuration > leaderElectionRenewDeadline
        else {
            throw ValidationError(
                "--leader-election-lease-duration (\(leaderElectionLeaseDuration)) must exceed --leader-election-renew-deadline (\(leaderElectionRenewDeadline)), which must exceed --leader-election-retry-period (\(leaderElectionRetryPeriod)) > 0"
            )
        }
        do {
            _ = try BindAddress(parsing: metricsBindAddress)
            _ = try BindAddress(parsing: healthProbeBindAddress)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vectorblocks.operator")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let client = try KubeClient(
            configuration: KubeClientConfiguration.load(kubeconfigPath: kubeconfig, context: context), logger: logger)
        let watched = namespaces.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let election =
            leaderElect
            ? LeaderElector.Configuration(
                leaseName: leaderElectionID, namespace: leaderElectionNamespace ?? client.defaultNamespace,
                leaseDuration: .seconds(leaderElectionLeaseDuration), renewDeadline: .seconds(leaderElectionRenewDeadline),
                retryPeriod: .milliseconds(Int(leaderElectionRetryPeriod * 1_000)))
            : nil
        var options = OperatorManager.Options(namespaces: watched, workers: workers, leaderElection: election)
        options.pipelineImages = PipelineImages(pelican: pelicanImage, emu: emuImage)
        options.backupImage = backupImage
        let manager = OperatorManager(client: client, options: options, logger: logger)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: manager, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let address = try BindAddress(parsing: metricsBindAddress) {
            services.append(.init(service: OperatorEndpoints.metrics(host: address.host, port: address.port, registry: registry)))
        }
        if let address = try BindAddress(parsing: healthProbeBindAddress) {
            services.append(
                .init(
                    service: OperatorEndpoints.health(
                        host: address.host, port: address.port, readinessChecks: ["informers": manager.cachesSynced],
                        livenessChecks: ["controllers": { await manager.controllersLive() }])))
        }
        logger.info(
            "starting",
            metadata: [
                "server": "\(client.configuration.server)", "namespaces": "\(watched.isEmpty ? "all" : watched.joined(separator: ","))",
                "leaderElection": "\(election.map { "\($0.namespace)/\($0.leaseName) as \($0.identity)" } ?? "off")",
            ])
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
