import ArgumentParser
import Foundation
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle
import VectorSync

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
            """)

    private static let environment = ProcessInfo.processInfo.environment

    @Option(help: "The pipeline's name: names the trigger, the queue and the lock (env VECTORSYNC_PIPELINE).")
    var pipeline: String = environment["VECTORSYNC_PIPELINE"] ?? ""

    @Option(help: "The source database's URI; prefer the environment for the password (env VECTORSYNC_SOURCE_URL).")
    var sourceURL: String = environment["VECTORSYNC_SOURCE_URL"] ?? ""

    @Option(help: "`table` or `schema.table` (env VECTORSYNC_TABLE).")
    var table: String = environment["VECTORSYNC_TABLE"] ?? ""

    @Option(help: "The table's single primary-key column (env VECTORSYNC_PRIMARY_KEY).")
    var primaryKey: String = environment["VECTORSYNC_PRIMARY_KEY"] ?? "id"

    @Option(help: "The embedded text, with {column} placeholders (env VECTORSYNC_TEXT_TEMPLATE).")
    var textTemplate: String = environment["VECTORSYNC_TEXT_TEMPLATE"] ?? ""

    @Option(name: .customLong("payload-column"), help: "A column copied into the payload; repeat for more.")
    var payloadColumns: [String] = []

    @Flag(inversion: .prefixedNo, help: "Queue the rows already in the table (env VECTORSYNC_BACKFILL=false to turn off).")
    var backfill: Bool = environment["VECTORSYNC_BACKFILL"] != "false"

    @Option(help: "Rows per transaction when draining the outbox or backfilling.")
    var batchSize: Int = 500

    @Option(help: "Receives after which the postgres queue dead-letters a message (env VECTORSYNC_MAX_RECEIVE_COUNT).")
    var maxReceiveCount: Int = environment["VECTORSYNC_MAX_RECEIVE_COUNT"].flatMap(Int.init) ?? 5

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = environment["VECTORSYNC_LOG_LEVEL"] ?? "info"

    @Option(help: "The port of /metrics and /healthz on all interfaces, 0 for none (env VECTORSYNC_HTTP_PORT).")
    var httpPort: Int = environment["VECTORSYNC_HTTP_PORT"].flatMap(Int.init) ?? 8080

    func run() async throws {
        var logger = Logger(label: "vectorsync.pelican")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let database: PostgresEndpoint
        let configuration: Pelican.Configuration
        do {
            database = try PostgresEndpoint(url: sourceURL, field: "--source-url (VECTORSYNC_SOURCE_URL)")
            let source = try SourceTable(
                table: table, primaryKey: primaryKey, textTemplate: textTemplate, payloadColumns: payloadColumns.filter { !$0.isEmpty })
            configuration = try Pelican.Configuration(pipeline: pipeline, source: source, backfill: backfill, batchSize: batchSize)
        } catch {
            throw ValidationError("\(error)")
        }
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let queue = PostgresQueue(client: client, name: pipeline, maxReceiveCount: maxReceiveCount, logger: logger)
        let pelican = Pelican(configuration: configuration, database: database, queue: queue, logger: logger)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: client),
            .init(
                service: Worker(queue: queue, pelican: pelican), successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if httpPort != 0 {
            let status = pelican.status
            services.append(
                .init(service: OperationalEndpoints.application(
                    host: "0.0.0.0", port: httpPort, registry: registry, problem: { await status.problem }, logger: logger)))
        }
        try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }

    struct Worker: Service {
        let queue: PostgresQueue
        let pelican: Pelican

        func run() async throws {
            try await cancelWhenGracefulShutdown {
                try await queue.install()
                try await pelican.run()
            }
        }
    }
}
