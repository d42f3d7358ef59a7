import ArgumentParser
import Foundation
import KubeKit
import Logging
import PipelineFixtures
import PostgresNIO
import VectorBlocksAPI
import VectorBlocksOperator
import VectorSync

/// A VectorPipeline run by the operator: from creating it to Streaming with every row in the pgvector sink, and the
/// update lag at a steady rate, through the Pelican and Emu Deployments the operator wrote (started as processes from
/// those Deployments and their Secrets), against a `kube-sim` child process.
struct PipelineOperatorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-operator",
        abstract: "Creates a VectorPipeline over N generated products; prints the time to Streaming and the update lag p50/p99.",
        discussion: """
            Needs a Postgres with pgvector of its own (it drops and recreates the schemas bench_vp and bench_vp_vectors) and the
            kube-sim, pelican and emu executables next to this one; run from the repository root (it reads crds/):
              swift build --product kube-sim --product pelican --product emu
              vectorblocks-bench pipeline-operator --database-url postgres://postgres@127.0.0.1:5432/bench --rows 100000
            """)

    @Option(help: "The Postgres (with pgvector) to use: source, queue and sink.") var databaseURL: String
    @Option(help: "Generated product rows.") var rows = 100_000
    @Option(help: "The hash embedder's dimension.") var dimension: Int32 = 384
    @Option(help: "Emu replicas (the pipeline's minReplicas and maxReplicas).") var emus: Int32 = 2
    @Option(help: "Messages per Emu batch.") var batchSize: Int32 = 256
    @Option(help: "Updates in the lag measurement.") var lagUpdates = 1_000
    @Option(help: "Updates per second in the lag measurement.") var updateRate = 100

    func validate() throws {
        guard rows > 0, dimension > 0, emus > 0, batchSize > 0, lagUpdates > 0, updateRate > 0 else {
            throw ValidationError("every count must be positive")
        }
        guard lagUpdates <= rows else { throw ValidationError("--lag-updates must not exceed --rows: each update touches another row") }
    }

    func run() async throws {
        var logger = Logger(label: "vectorblocks.bench.pipeline-operator")
        logger.logLevel = .error
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for executable in ["kube-sim", "pelican", "emu"] where !FileManager.default.isExecutableFile(atPath: products.appendingPathComponent(executable).path) {
            throw ValidationError("\(executable) is missing next to this benchmark: swift build --product kube-sim --product pelican --product emu")
        }
        let endpoint = try PostgresEndpoint(url: databaseURL, field: "--database-url")
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await load(endpoint: endpoint, logger: logger)
            try await measure(client: client, products: products, logger: logger)
        }
    }

    private func load(endpoint: PostgresEndpoint, logger: Logger) async throws {
        let catalog = try ProductCatalog(table: "bench_vp.products")
        let stateName = PipelineNames(pipeline: "bench", namespace: "default").sourceStateName
        try await endpoint.withConnection(logger: logger) { connection in
            for statement in [
                "DROP SCHEMA IF EXISTS bench_vp CASCADE", "DROP SCHEMA IF EXISTS bench_vp_vectors CASCADE", "CREATE SCHEMA bench_vp",
                "CREATE EXTENSION IF NOT EXISTS vector",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await PipelineState.remove(pipeline: stateName, table: "bench_vp.products", connection: connection, logger: logger)
            try await catalog.createTable(connection, logger: logger)
            var next: Int64 = 1
            while next <= Int64(rows) {
                let last = min(next + 4_999, Int64(rows))
                try await catalog.insert(ProductCatalog.products(next...last), connection, logger: logger)
                next = last + 1
            }
        }
        print("loaded \(rows) source rows")
    }

    private func measure(client: PostgresClient, products: URL, logger: Logger) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vb-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        let simulator = Process()
        simulator.executableURL = products.appendingPathComponent("kube-sim")
        simulator.arguments = ["--port", "0", "--kubeconfig", kubeconfig]
        simulator.standardOutput = FileHandle.nullDevice
        try simulator.run()
        var workers: [Process] = []
        defer {
            for worker in workers where worker.isRunning { worker.terminate() }
            simulator.terminate()
        }
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: kubeconfig) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let kube = try KubeClient(configuration: try KubeClientConfiguration.load(kubeconfigPath: kubeconfig), logger: logger)
        for file in try FileManager.default.contentsOfDirectory(atPath: "crds").sorted() where file.hasSuffix(".yaml") {
            for crd in try ManifestYAML.parse(String(contentsOfFile: "crds/\(file)", encoding: .utf8)) {
                _ = try await kube.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
            }
        }
        // The API server serves a new CRD's resource a moment after it is stored.
        try await Task.sleep(for: .milliseconds(500))
        for name in ["bench-source", "bench-sink"] {
            _ = try await kube.create(
                CoreV1.Secret(
                    data: ["uri": Data(databaseURL.utf8).base64EncodedString()], metadata: .init(name: name, namespace: "default"), type: "Opaque"))
        }
        var options = OperatorManager.Options(workers: 2, podAddressing: .unreachable)
        options.pipelineStatusInterval = .seconds(1)
        let manager = OperatorManager(client: kube, options: options, logger: logger)
        let operatorTask = Task { try await manager.run() }
        defer { operatorTask.cancel() }

        let clock = ContinuousClock()
        let started = clock.now
        _ = try await kube.create(pipeline())
        let launcher = DeploymentLauncher(client: kube, productsDirectory: products)
        for name in ["bench-pelican", "bench-emu"] {
            let deployment = try await waitFor("Deployment \(name)") {
                try? await kube.get(AppsV1.Deployment.self, name: name, namespace: "default")
            }
            workers += try await launcher.start(deployment, replicas: Int(deployment.spec?.replicas ?? 1), extraArguments: ["--http-port", "0"])
        }
        let sinkRows = "SELECT count(*) FROM bench_vp_vectors.products"
        _ = try await waitFor("Streaming with every row in the sink", timeout: .seconds(3_600)) { () -> Bool? in
            let current = try await kube.get(VectorPipeline.self, name: "bench", namespace: "default")
            guard current.status?.phase == .streaming, current.status?.backlog == 0 else { return nil }
            return try await count(sinkRows, client: client) == rows ? true : nil
        }
        let toStreaming = (clock.now - started).seconds
        print(
            String(
                format: "create to Streaming: %.1f s for %d rows (%.0f rows/s), %d Emu replicas, batches of %d",
                toStreaming, rows, Double(rows) / toStreaming, emus, batchSize))

        let lags = try await updateLag(client: client, logger: logger)
        print(
            String(
                format: "update lag at %d updates/s over %d updates: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                updateRate, lagUpdates, (lags.percentile(0.5) ?? 0) * 1000, (lags.percentile(0.99) ?? 0) * 1000, (lags.max() ?? 0) * 1000))

        try await kube.delete(VectorPipeline.self, name: "bench", namespace: "default")
        for worker in workers where worker.isRunning { worker.terminate() }
        operatorTask.cancel()
        _ = await operatorTask.result
        try await kube.shutdown()
    }

    private func pipeline() -> VectorPipeline {
        VectorPipeline(
            metadata: .init(name: "bench", namespace: "default"),
            spec: VectorPipelineSpec(
                source: .init(
                    connectionSecretRef: .init(name: "bench-source", key: "uri"), table: "bench_vp.products", primaryKey: ["id"],
                    textTemplate: "{name}: {description}", payloadColumns: ["sku", "price"], onDelete: .remove),
                embedder: .init(kind: .hash, dimension: dimension, batchSize: batchSize),
                sinks: [
                    .init(
                        name: "pgvector", kind: .pgvector,
                        endpoint: .init(url: addressWithoutPassword, credentialsSecretRef: .init(name: "bench-sink", key: "uri")),
                        collection: "bench_vp_vectors.products")
                ],
                scaling: .init(mode: .backlog, minReplicas: emus, maxReplicas: emus)))
    }

    /// The sink's address as the spec shows it; the Secret holds the URI with its password.
    private var addressWithoutPassword: String {
        guard var components = URLComponents(string: databaseURL) else { return databaseURL }
        components.password = nil
        return components.string ?? databaseURL
    }

    /// Updates `lagUpdates` different rows at `updateRate` per second and returns, per update, the seconds from the
    /// UPDATE's commit to the new vector's write in the sink (both stamped by the database's clock).
    private func updateLag(client: PostgresClient, logger: Logger) async throws -> [Double] {
        let ids = Array((1...Int64(rows)).shuffled().prefix(lagUpdates))
        let start = ContinuousClock.now
        for (index, id) in ids.enumerated() {
            try await Task.sleep(until: start + .seconds(Double(index) / Double(updateRate)))
            try await client.query(
                "UPDATE bench_vp.products SET description = \("Lag probe \(index): now with a brand new description."), last_updated = clock_timestamp() WHERE id = \(id)",
                logger: logger)
        }
        let lagQuery: PostgresQuery = """
            SELECT extract(epoch FROM v.updated_at - p.last_updated)::float8 FROM bench_vp.products p
            JOIN bench_vp_vectors.products v ON v.id = p.id::text WHERE p.id = ANY(\(ids)) AND v.updated_at >= p.last_updated
            """
        return try await waitFor("every update in the sink", timeout: .seconds(600)) { () -> [Double]? in
            var lags: [Double] = []
            for try await lag in try await client.query(lagQuery, logger: logger).decode(Double.self) { lags.append(lag) }
            return lags.count == ids.count ? lags.sorted() : nil
        }
    }

    private func count(_ sql: String, client: PostgresClient) async throws -> Int {
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int64.self) { return Int(value) }
        return 0
    }

    /// Polls `check` every 250 ms until it gives a value, or fails after `timeout`.
    private func waitFor<Value>(_ what: String, timeout: Duration = .seconds(120), _ check: () async throws -> Value?) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try await check() { return value }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ValidationError("\(what) did not happen within \(timeout)")
    }
}
