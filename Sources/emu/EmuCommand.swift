import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import OperationalHTTP
import PostgresNIO
import Prometheus
import ServiceLifecycle
import VectorSync
import VectorSyncOptions

/// Emu: `emu run` embeds and upserts, `emu search` asks a sink; flags with VECTORSYNC_* environment fallbacks.
@main
struct EmuCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emu",
        abstract: "Embeds changed rows into the pipeline's vector sinks, and searches them.",
        subcommands: [Run.self, Search.self], defaultSubcommand: Run.self)

    static let environment = ProcessInfo.processInfo.environment

    /// What both subcommands need: the source table, the embedder and the sinks.
    struct PipelineOptions: ParsableArguments {
        @OptionGroup var source: SourceOptions

        @Option(help: "hash, openai or minilm (env VECTORSYNC_EMBEDDER).")
        var embedder: String = environment["VECTORSYNC_EMBEDDER"] ?? "hash"

        @Option(help: "The vectors' dimension: the hash embedder's, the one the openai model answers, or minilm's 384 (env VECTORSYNC_DIMENSION).")
        var dimension: Int = environment["VECTORSYNC_DIMENSION"].flatMap(Int.init) ?? 384

        @Option(help: "The minilm embedder's model directory: model.safetensors, vocab.txt, config.json (env VECTORSYNC_MODEL_DIR).")
        var modelDir: String = environment["VECTORSYNC_MODEL_DIR"] ?? ""

        @Option(help: "An OpenAI-compatible API's base URL (env VECTORSYNC_OPENAI_URL).")
        var openaiURL: String = environment["VECTORSYNC_OPENAI_URL"] ?? "https://api.openai.com"

        @Option(help: "The embedding model, e.g. text-embedding-3-small (env VECTORSYNC_OPENAI_MODEL).")
        var openaiModel: String = environment["VECTORSYNC_OPENAI_MODEL"] ?? ""

        @Option(help: "A file holding the API key, such as a mounted Secret; default: the environment's OPENAI_API_KEY.")
        var openaiAPIKeyFile: String = environment["VECTORSYNC_OPENAI_API_KEY_FILE"] ?? ""

        @Option(help: "The pgvector database's URI; default: the source database (env VECTORSYNC_PGVECTOR_URL).")
        var pgvectorURL: String = environment["VECTORSYNC_PGVECTOR_URL"] ?? ""

        @Option(name: .customLong("pgvector-table"), help: "A pgvector sink table (`schema.table`); repeat for several.")
        var pgvectorTables: [String] = []

        @Option(help: "A Qdrant sink's REST URL, e.g. http://vectors-qdrant:6333 (env VECTORSYNC_QDRANT_URL).")
        var qdrantURL: String = environment["VECTORSYNC_QDRANT_URL"] ?? ""

        @Option(help: "The Qdrant sink's collection (env VECTORSYNC_QDRANT_COLLECTION).")
        var qdrantCollection: String = environment["VECTORSYNC_QDRANT_COLLECTION"] ?? ""

        @Option(help: "A file holding Qdrant's API key, such as the mounted conn-credential; default: the environment's QDRANT_API_KEY.")
        var qdrantAPIKeyFile: String = environment["VECTORSYNC_QDRANT_API_KEY_FILE"] ?? ""

        @Option(help: "Cosine, Dot or Euclid.")
        var metric: String = "Cosine"

        @Option(
            help:
                "The VectorPipeline (`namespace/name`) recorded as the maker of a table or collection Emu creates: only it may drop that sink's data (env VECTORSYNC_SINK_MAKER)."
        )
        var sinkMaker: String = environment["VECTORSYNC_SINK_MAKER"] ?? ""

        var logger: Logger { source.logger(label: "vectorsync.emu") }

        func endpoints() throws -> (source: PostgresEndpoint, sink: PostgresEndpoint) {
            let source = try source.database()
            let sink = pgvectorURL.isEmpty ? source : try PostgresEndpoint(url: pgvectorURL, field: "--pgvector-url (VECTORSYNC_PGVECTOR_URL)")
            return (source, sink)
        }

        func makeEmbedder() throws -> any Embedder {
            try EmbedderSettings(
                kind: embedder, dimension: dimension, openAIBaseURL: openaiURL, model: openaiModel, apiKeyFile: openaiAPIKeyFile,
                modelDirectory: modelDir
            ).makeEmbedder(http: .shared, environment: environment, logger: logger)
        }

        /// Every sink named: the pgvector tables, then the Qdrant collection.
        func sinks(client: PostgresClient) throws -> [any VectorSink] {
            guard let metric = VectorMetric(rawValue: metric) else {
                throw ConfigurationError(field: "--metric", problem: "\"\(metric)\" is not a metric", fix: "use Cosine, Dot or Euclid")
            }
            let maker = sinkMaker.isEmpty ? nil : sinkMaker
            var sinks: [any VectorSink] = try pgvectorTables.map { table throws(ConfigurationError) in
                try PgvectorSink(name: table, client: client, table: table, metric: metric, maker: maker, logger: logger)
            }
            if !qdrantURL.isEmpty || !qdrantCollection.isEmpty {
                guard !qdrantCollection.isEmpty else {
                    throw ConfigurationError(
                        field: "--qdrant-collection", problem: "the Qdrant sink needs a collection", fix: "name one, e.g. --qdrant-collection products")
                }
                let apiKey = try SecretValue.read(
                    file: qdrantAPIKeyFile, environmentVariable: "QDRANT_API_KEY", field: "--qdrant-api-key-file", environment: environment)
                sinks.append(
                    try QdrantSink(
                        name: "qdrant:\(qdrantCollection)", url: qdrantURL, collection: qdrantCollection, apiKey: apiKey, metric: metric,
                        maker: maker, http: .shared, logger: logger))
            }
            guard !sinks.isEmpty else {
                throw ConfigurationError(
                    field: "--pgvector-table", problem: "no sink is configured",
                    fix: "name at least one, e.g. --pgvector-table vectors.products or --qdrant-url http://qdrant:6333 --qdrant-collection products")
            }
            return sinks
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Takes change messages off the queue and writes every sink.")

        @OptionGroup var options: PipelineOptions

        @Option(help: "Messages per batch, embedded in one call (env VECTORSYNC_BATCH_SIZE).")
        var batchSize: Int = environment["VECTORSYNC_BATCH_SIZE"].flatMap(Int.init) ?? 64

        @Option(help: "Seconds a received message stays invisible to other workers.")
        var visibilityTimeout: Int = environment["VECTORSYNC_VISIBILITY_TIMEOUT"].flatMap(Int.init) ?? 60

        @OptionGroup var queueOptions: QueueOptions

        @Option(
            help:
                "Seconds between verifies of every sink against the source (drift repair); 0 for none (env VECTORSYNC_VERIFY_INTERVAL_SECONDS)."
        )
        var verifyIntervalSeconds: Int = environment["VECTORSYNC_VERIFY_INTERVAL_SECONDS"].flatMap(Int.init) ?? 0

        @Flag(
            inversion: .prefixedNo,
            help: "Give a sink added to a running pipeline a backfill of its own (env VECTORSYNC_BACKFILL=false to turn off, as Pelican's backfill).")
        var backfillNewSinks: Bool = environment["VECTORSYNC_BACKFILL"] != "false"

        @Option(help: "The port of /metrics and /healthz on all interfaces, 0 for none (env VECTORSYNC_HTTP_PORT).")
        var httpPort: Int = environment["VECTORSYNC_HTTP_PORT"].flatMap(Int.init) ?? 8080

        func run() async throws {
            let logger = options.logger
            // Before Emu: a metric made before the bootstrap stays a no-op for good.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let emu: Emu
            let verifier: DriftVerifier?
            let backfiller: SinkBackfiller
            let clients: [PostgresClient]
            do {
                let endpoints = try options.endpoints()
                let sourceClient = PostgresClient(configuration: endpoints.source.clientConfiguration, backgroundLogger: logger)
                let sinkClient =
                    options.pgvectorURL.isEmpty
                    ? sourceClient : PostgresClient(configuration: endpoints.sink.clientConfiguration, backgroundLogger: logger)
                clients = sourceClient === sinkClient ? [sourceClient] : [sourceClient, sinkClient]
                let queue = try queueOptions.settings().makeQueue(
                    pipeline: options.source.pipeline, database: sourceClient, http: .shared, environment: environment, logger: logger)
                guard verifyIntervalSeconds >= 0 else {
                    throw ConfigurationError(
                        field: "--verify-interval-seconds", problem: "\(verifyIntervalSeconds) is negative", fix: "use 0 for no verify, or e.g. 21600")
                }
                let source = try options.source.source()
                let embedder = try options.makeEmbedder()
                let sinks = try options.sinks(client: sinkClient)
                emu = Emu(
                    configuration: try .init(source: source, batchSize: batchSize, visibilityTimeout: .seconds(visibilityTimeout)),
                    source: sourceClient, queue: queue, embedder: embedder, sinks: sinks, logger: logger)
                verifier =
                    verifyIntervalSeconds == 0
                    ? nil
                    : DriftVerifier(
                        configuration: try .init(pipeline: options.source.pipeline, source: source), source: sourceClient, queue: queue,
                        model: embedder.model, dimension: embedder.dimension, sinks: sinks, logger: logger)
                backfiller = SinkBackfiller(
                    configuration: try .init(pipeline: options.source.pipeline, source: source, backfills: backfillNewSinks),
                    source: sourceClient, queue: queue, embedder: embedder, sinks: sinks, logger: logger)
            } catch {
                throw ValidationError("\(error)")
            }
            var services: [ServiceGroupConfiguration.ServiceConfiguration] =
                clients.map { .init(service: $0) } + [
                    .init(
                        service: Worker(emu: emu, verifier: verifier, verifyInterval: .seconds(verifyIntervalSeconds), backfiller: backfiller),
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ]
            if httpPort != 0 {
                let status = emu.status
                services.append(
                    .init(
                        service: OperationalEndpoints.metricsAndHealth(
                            host: "0.0.0.0", port: httpPort, registry: registry, problem: { await status.problem() }, logger: logger)))
            }
            try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        }

        /// Emu's loop, and beside it the periodic verify when one is asked for and the backfill of sinks added to
        /// the running pipeline.
        struct Worker: Service {
            let emu: Emu
            let verifier: DriftVerifier?
            let verifyInterval: Duration
            let backfiller: SinkBackfiller

            func run() async throws {
                try await cancelWhenGracefulShutdown {
                    try await withThrowingTaskGroup(of: Bool.self) { group in
                        group.addTask {
                            try await emu.run()
                            return true
                        }
                        if let verifier {
                            group.addTask {
                                try await verifier.run(every: verifyInterval)
                                return false
                            }
                        }
                        group.addTask {
                            try await backfiller.run()
                            return false
                        }
                        // Emu's loop ends only when stopped or failed; either way the others stop with it. The sinks'
                        // backfill ends by itself once there is nothing left to backfill.
                        while let emuEnded = try await group.next(), !emuEnded {}
                        group.cancelAll()
                    }
                }
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
            let search: SimilaritySearch
            do {
                search = SimilaritySearch(
                    source: try options.source.source(), client: sourceClient, embedder: try options.makeEmbedder(),
                    sink: try options.sinks(client: sinkClient)[0], logger: logger)
            } catch {
                throw ValidationError("\(error)")
            }
            let results = try await withThrowingTaskGroup(of: [SearchResult]?.self) { group in
                group.addTask {
                    await sourceClient.run()
                    return nil
                }
                group.addTask {
                    await sinkClient.run()
                    return nil
                }
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
