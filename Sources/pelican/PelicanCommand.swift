import ArgumentParser
import Foundation
import Logging
import Metrics
import OperationalHTTP
import PostgresNIO
import Prometheus
import ServiceLifecycle
import VectorSync
import VectorSyncOptions

/// Pelican: flags (with VECTORSYNC_* environment fallbacks, for the Deployment's env), then the library's Pelican
/// and its database client in one service group that stops on SIGTERM.
@main
struct PelicanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pelican",
        abstract: "Captures a Postgres table's changes and backfills it onto the pipeline's queue.",
        discussion: """
            Example:
              VECTORSYNC_SOURCE_URL=postgres://app:secret@db:5432/shop pelican --pipeline products \\
                --table public.products --primary-key id --text-template '{name}: {description}' --payload-column sku
              AWS_REGION=eu-west-1 pelican ... --queue sqs --sqs-queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/changes
            """)

    private static let environment = ProcessInfo.processInfo.environment

    @OptionGroup var options: SourceOptions

    @OptionGroup var queueOptions: QueueOptions

    @Flag(inversion: .prefixedNo, help: "Queue the rows already in the table (env VECTORSYNC_BACKFILL=false to turn off).")
    var backfill: Bool = environment["VECTORSYNC_BACKFILL"] != "false"

    @Option(help: "Rows per transaction when draining the outbox or backfilling.")
    var batchSize: Int = 500

    @Option(help: "The port of /metrics and /healthz on all interfaces, 0 for none (env VECTORSYNC_HTTP_PORT).")
    var httpPort: Int = environment["VECTORSYNC_HTTP_PORT"].flatMap(Int.init) ?? 8080

    func run() async throws {
        let logger = options.logger(label: "vectorsync.pelican")
        let database: PostgresEndpoint
        let configuration: Pelican.Configuration
        let queueSettings: QueueSettings
        do {
            database = try options.database()
            configuration = try Pelican.Configuration(pipeline: options.pipeline, source: try options.source(), backfill: backfill, batchSize: batchSize)
            queueSettings = try queueOptions.settings()
        } catch {
            throw ValidationError("\(error)")
        }
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let queue: any ChangeQueue
        do {
            queue = try queueSettings.makeQueue(
                pipeline: options.pipeline, database: client, http: .shared, environment: Self.environment, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        // Before Pelican: a metric made before the bootstrap stays a no-op for good.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let pelican = Pelican(configuration: configuration, database: database, queue: queue, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: client),
            .init(
                service: Worker(queue: queue, pelican: pelican), successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if httpPort != 0 {
            let status = pelican.status
            services.append(
                .init(
                    service: OperationalEndpoints.metricsAndHealth(
                        host: "0.0.0.0", port: httpPort, registry: registry, problem: { await status.problem }, logger: logger)))
        }
        try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }

    struct Worker: Service {
        let queue: any ChangeQueue
        let pelican: Pelican

        func run() async throws {
            try await cancelWhenGracefulShutdown {
                try await queue.install()
                try await pelican.run()
            }
        }
    }
}
