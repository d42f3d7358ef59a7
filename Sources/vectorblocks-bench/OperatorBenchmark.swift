import ArgumentParser
import Foundation
import KubeKit
import Logging
import MetricsTestKit
import OperatorKit
import VectorBlocksAPI
import VectorBlocksOperator
import VectorBlocksPackaging

/// Many Clusters at once: the operator in this process against a `kube-sim` child process (with its simulated
/// kubelet), so the resident memory printed is the operator's own.
struct OperatorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract:
            "Creates N Clusters on kube-sim; prints time to all Running, reconcile p50/p99, API requests and engine calls per cluster, what an idle cluster costs per minute and the operator's resident memory.",
        discussion: "Build kube-sim first: swift build -c release --product kube-sim; run from the repository root (it reads crds/).")

    @Option(help: "Clusters to create.") var clusters = 1_000
    @Option(help: "Seconds to count writes once every cluster is Running.") var idleSeconds = 60
    @Option(help: "Concurrent creates.") var concurrency = 16
    @Option(help: "Reconcile workers.") var workers = 4
    @Option(help: "The kube-sim executable; default: next to this one.") var kubeSim: String?
    @Option(help: "The addon the Clusters are made from: qdrant or pgvector.") var definition = "qdrant"

    func validate() throws {
        guard ["qdrant", "pgvector"].contains(definition) else {
            throw ValidationError("--definition \"\(definition)\" is not qdrant or pgvector")
        }
    }

    func run() async throws {
        print("machine: \(Figures.machine())")
        let executable =
            kubeSim
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("kube-sim").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ValidationError("\(executable) is missing: build it with swift build -c release --product kube-sim, or pass --kube-sim")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vb-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        let simulator = Process()
        simulator.executableURL = URL(fileURLWithPath: executable)
        simulator.arguments = ["--port", "0", "--kubeconfig", kubeconfig]
        simulator.standardOutput = FileHandle.nullDevice
        try simulator.run()
        defer { simulator.terminate() }
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: kubeconfig) {
            try await Task.sleep(for: .milliseconds(50))
        }

        let metrics = TestMetrics()
        var configuration = try KubeClientConfiguration.load(kubeconfigPath: kubeconfig)
        configuration.metricsFactory = metrics
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let client = try KubeClient(configuration: configuration, logger: logger)
        try await install(client)

        // kube-sim's pod IPs lead nowhere: the engine hooks run and are counted, but reach no address.
        let manager = OperatorManager(
            client: client, options: .init(workers: workers, podAddressing: .unreachable), metricsFactory: metrics,
            logger: logger)
        let operatorTask = Task { try await manager.run() }
        defer { operatorTask.cancel() }

        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: clusters, by: concurrency) {
                        _ = try await client.create(cluster(index))
                    }
                }
            }
            try await group.waitForAll()
        }
        let created = clock.now - started
        var running = 0
        while running < clusters {
            try await Task.sleep(for: .milliseconds(250))
            // Counted in the operator's own cache, not listed: a list over HTTP, and then a copy of every cached Cluster
            // four times a second, each took a tenth of this process's CPU (perf) on the two cores the operator and
            // kube-sim share.
            running = await manager.caches.clusters.count(namespace: "default") { $0.status?.phase == .running }
            if clock.now - started > .seconds(1_800) { throw ValidationError("only \(running) of \(clusters) Running after 30 minutes") }
        }
        let allRunning = clock.now - started
        let requestsToRunning = requestCount(metrics)
        let engineCallsToRunning = engineCalls(metrics)

        // Settle the last status writes and their watch events, then count what happens while nothing changes.
        try await Task.sleep(for: .seconds(5))
        let before = (
            writes: requestCount(metrics, writesOnly: true), requests: requestCount(metrics),
            reconciles: reconcileCount(metrics), engine: engineCalls(metrics)
        )
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleWrites = requestCount(metrics, writesOnly: true) - before.writes
        let perClusterMinute = { (count: Int64) in
            String(format: "%.3f", Double(count) * 60 / Double(idleSeconds) / Double(clusters))
        }

        let reconciles = metrics.timers(label: "controller_runtime_reconcile_time_seconds", dimensions: [("controller", "cluster")])
            .flatMap(\.values).sorted()
        print("clusters: \(clusters) \(definition) Clusters of 1 replica, \(workers) workers, created in \(Figures.format(created.seconds)) s")
        print("all Running after: \(Figures.format(allRunning.seconds)) s")
        print("cluster reconciles: \(reconciles.count), p50 \(Self.millis(reconciles.percentile(0.5))) ms, p99 \(Self.millis(reconciles.percentile(0.99))) ms")
        print(
            "API requests until all Running: \(requestsToRunning) (\(String(format: "%.1f", Double(requestsToRunning) / Double(clusters))) per cluster, watches and lists included)"
        )
        print(
            "engine calls until all Running: \(engineCallsToRunning) (\(String(format: "%.1f", Double(engineCallsToRunning) / Double(clusters))) per cluster)")
        print("writes while idle: \(idleWrites) in \(idleSeconds) s (\(String(format: "%.1f", Double(idleWrites) * 60 / Double(idleSeconds))) per minute)")
        print(
            "per idle cluster per minute: \(perClusterMinute(reconcileCount(metrics) - before.reconciles)) reconciles, "
                + "\(perClusterMinute(requestCount(metrics) - before.requests)) API requests, "
                + "\(perClusterMinute(engineCalls(metrics) - before.engine)) engine calls")
        print("operator resident memory: \(Figures.residentMemoryMiB().map(String.init) ?? "unknown") MiB")
        print("cached objects: \(await cachedObjects(manager.caches))")
        operatorTask.cancel()
        _ = await operatorTask.result
        try await client.shutdown()
    }

    /// How many objects of each kind the operator's informers hold, largest first.
    private func cachedObjects(_ caches: OperatorCaches) async -> String {
        func count<Object: KubernetesObject>(_ informers: NamespacedInformers<Object>) async -> (String, Int) {
            var total = 0
            for informer in informers.informers { total += await informer.cache.count }
            return (Object.descriptor.kind, total)
        }
        let counts = [
            await count(caches.clusters), await count(caches.statefulSets), await count(caches.services),
            await count(caches.configMaps), await count(caches.secrets), await count(caches.podDisruptionBudgets),
            await count(caches.pods), await count(caches.volumeClaims), await count(caches.serviceAccounts),
            await count(caches.deployments), await count(caches.opsRequests),
        ]
        return counts.sorted { $0.1 > $1.1 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    private func install(_ client: KubeClient) async throws {
        for file in try FileManager.default.contentsOfDirectory(atPath: "crds").sorted() where file.hasSuffix(".yaml") {
            for crd in try ManifestYAML.parse(String(contentsOfFile: "crds/\(file)", encoding: .utf8)) {
                _ = try await client.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
            }
        }
        // The API server serves a new CRD's resource a moment after it is stored.
        try await Task.sleep(for: .milliseconds(500))
        _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
        let addon = try (definition == "pgvector" ? Addon.pgvector : Addon.qdrant).objects()
        for configMap in addon.configMaps { _ = try await client.create(configMap) }
        _ = try await client.create(addon.definition)
        _ = try await client.create(addon.version)
    }

    func cluster(_ index: Int) -> Cluster {
        let storage = CoreV1.PersistentVolumeClaimSpec(
            accessModes: ["ReadWriteOnce"], resources: CoreV1.VolumeResourceRequirements(requests: ["storage": "1Gi"]))
        return Cluster(
            metadata: .init(name: "bench-\(index)", namespace: "default"),
            spec: ClusterSpec(
                clusterDefinitionRef: definition, terminationPolicy: .delete,
                componentSpecs: [
                    ClusterComponentSpec(
                        name: component, componentDefRef: component, replicas: 1,
                        volumeClaimTemplates: [ClusterComponentVolumeClaimTemplate(name: "data", spec: storage)])
                ]))
    }

    private func requestCount(_ metrics: TestMetrics, writesOnly: Bool = false) -> Int64 {
        let verbs = writesOnly ? ["POST", "PUT", "PATCH", "DELETE"] : ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return metrics.counters.filter { counter in
            counter.label == "rest_client_requests_total"
                && counter.dimensions.contains { $0.0 == "verb" && verbs.contains($0.1) }
        }.reduce(0) { $0 + $1.totalValue }
    }

    /// The addon's one component definition.
    private var component: String { definition == "pgvector" ? "postgresql" : "qdrant" }

    private func reconcileCount(_ metrics: TestMetrics) -> Int64 {
        metrics.counters.filter { $0.label == "controller_runtime_reconcile_total" && $0.dimensions.contains { $0 == ("controller", "cluster") } }
            .reduce(0) { $0 + $1.totalValue }
    }

    private func engineCalls(_ metrics: TestMetrics) -> Int64 {
        metrics.counters.filter { $0.label == "vectorblocks_engine_calls_total" }.reduce(0) { $0 + $1.totalValue }
    }

    static func millis(_ nanoseconds: Int64?) -> String { Figures.format(Double(nanoseconds ?? 0) / 1e6) }
}
