import ArgumentParser
import Foundation
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle
import VectorSync

/// Emu: `emu run` embeds and upserts, `emu search` asks a sink; flags with VECTORSYNC_* environment fallbacks.
@main
struct EmuCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emu",
        abstract: "Embeds changed rows into the pipeline's vector sinks, and searches them.",
        subcommands: [Run.self, Search.self], defaultSubcommand: Run.self)

    static let environment = ProcessInfo.processInfo.environment

    /// What both subcommands need: the source table, the embedder and the pgvector sinks.
    struct PipelineOptions: ParsableArguments {
        @Option(help: "The pipeline's name: names the queue (env VECTORSYNC_PIPELINE).")
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

        @Option(help: "The hash embedder's dimension (env VECTORSYNC_DIMENSION).")
        var dimension: Int = environment["VECTORSYNC_DIMENSION"].flatMap(Int.init) ?? 384

        @Option(help: "The pgvector database's URI; default: the source database (env VECTORSYNC_PGVECTOR_URL).")
        var pgvectorURL: String = environment["VECTORSYNC_PGVECTOR_URL"] ?? ""

        @Option(name: .customLong("pgvector-table"), help: "A pgvector sink table (`schema.table`); repeat for several.")
        var pgvectorTables: [String] = []

        @Option(help: "Cosine, Dot or Euclid.")
        var metric: String = "Cosine"

        @Option(help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel: String = environment["VECTORSYNC_LOG_LEVEL"] ?? "info"

        var logger: Logger {
            var logger = Logger(label: "vectorsync.emu")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return logger
        }

        func source() throws -> SourceTable {
            try SourceTable(table: table, primaryKey: primaryKey, textTemplate: textTemplate, payloadColumns: payloadColumns)
        }

        func endpoints() throws -> (source: PostgresEndpoint, sink: PostgresEndpoint) {
            let source = try PostgresEndpoint(url: sourceURL, field: "--source-url (VECTORSYNC_SOURCE_URL)")
            let sink = pgvectorURL.isEmpty ? source : try PostgresEndpoint(url: pgvectorURL, field: "--pgvector-url (VECTORSYNC_PGVECTOR_URL)")
            return (source, sink)
        }

        func sinks(client: PostgresClient) throws -> [any VectorSink] {
            guard !pgvectorTables.isEmpty else {
                throw ConfigurationError(field: "--pgvector-table", problem: "no sink is configured", fix: "name at least one table, e.g. --pgvector-table vectors.products")
            }
            guard let metric = VectorMetric(rawValue: metric) else {
                throw ConfigurationError(field: "--metric", problem: "\"\(metric)\" is not a metric", fix: "use Cosine, Dot or Euclid")
            }
            return try pgvectorTables.map { table throws(ConfigurationError) in
                try PgvectorSink(name: table, client: client, table: table, metric: metric, logger: logger)
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Takes change messages off the queue and writes every sink.")

        @OptionGroup var options: PipelineOptions

        @Option(help: "Messages per batch, embedded in one call (env VECTORSYNC_BATCH_SIZE).")
        var batchSize: Int = environment["VECTORSYNC_BATCH_SIZE"].flatMap(Int.init) ?? 64

        @Option(help: "Seconds a received message stays invisible to other workers.")
        var visibilityTimeout: Int = environment["VECTORSYNC_VISIBILITY_TIMEOUT"].flatMap(Int.init) ?? 60

        @Option(help: "Receives after which a message goes to the dead-letter queue (env VECTORSYNC_MAX_RECEIVE_COUNT).")
        var maxReceiveCount: Int = environment["VECTORSYNC_MAX_RECEIVE_COUNT"].flatMap(Int.init) ?? 5

        @Option(help: "The port of /metrics and /healthz on all interfaces, 0 for none (env VECTORSYNC_HTTP_PORT).")
        var httpPort: Int = environment["VECTORSYNC_HTTP_PORT"].flatMap(Int.init) ?? 8080

        func run() async throws {
            let logger = options.logger
            let emu: Emu
            let clients: [PostgresClient]
            do {
                let endpoints = try options.endpoints()
                let sourceClient = PostgresClient(configuration: endpoints.source.clientConfiguration, backgroundLogger: logger)
                let sinkClient = options.pgvectorURL.isEmpty
                    ? sourceClient : PostgresClient(configuration: endpoints.sink.clientConfiguration, backgroundLogger: logger)
                clients = sourceClient === sinkClient ? [sourceClient] : [sourceClient, sinkClient]
                let queue = PostgresQueue(client: sourceClient, name: options.pipeline, maxReceiveCount: maxReceiveCount, logger: logger)
                emu = Emu(
                    configuration: try .init(
                        source: try options.source(), batchSize: batchSize, visibilityTimeout: .seconds(visibilityTimeout)),
                    source: sourceClient, queue: queue, embedder: try HashEmbedder(dimension: options.dimension),
                    sinks: try options.sinks(client: sinkClient), logger: logger)
            } catch {
                throw ValidationError("\(error)")
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            var services: [ServiceGroupConfiguration.ServiceConfiguration] =
                clients.map { .init(service: $0) } + [
                    .init(
                        service: Worker(emu: emu), successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ]
            if httpPort != 0 {
                let status = emu.status
                services.append(
                    .init(service: OperationalEndpoints.application(
                        host: "0.0.0.0", port: httpPort, registry: registry, problem: { await status.problem() }, logger: logger)))
            }
            try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        }

        struct Worker: Service {
            let emu: Emu

            func run() async throws {
                try await cancelWhenGracefulShutdown { try await emu.run() }
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Embeds a query, searches the first sink, and prints the matching rows, most similar first.")

        @OptionGroup var options: PipelineOptions

        @Argument(help: "The text to search for.")
        var query: String

        @Option(help: "How many results.")
        var limit: Int = 10

        func run() async throws {
            let logger = options.logger
            let endpoints = try options.endpoints()
            let sourceClient = PostgresClient(configuration: endpoints.source.clientConfiguration, backgroundLogger: logger)
            let sinkClient = PostgresClient(configuration: endpoints.sink.clientConfiguration, backgroundLogger: logger)
            let search = SimilaritySearch(
                source: try options.source(), client: sourceClient, embedder: try HashEmbedder(dimension: options.dimension),
                sink: try options.sinks(client: sinkClient)[0], logger: logger)
            let results = try await withThrowingTaskGroup(of: [SearchResult]?.self) { group in
                group.addTask { await sourceClient.run(); return nil }
                group.addTask { await sinkClient.run(); return nil }
                defer { group.cancelAll() }
                return try await search.search(query, limit: limit)
            }
            for result in results {
                let row = result.row.map { JSONValue.object($0).canonicalJSON } ?? "(deleted from the source)"
                print(String(format: "%.4f", result.hit.score), result.hit.id, row)
            }
        }
    }
}
