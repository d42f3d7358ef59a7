import Foundation
import KubeKit
import KubeSim
import Logging
import Metrics
import OperatorKit
import VectorBlocksAPI
import VectorBlocksOperator
import VectorBlocksPackaging

/// The operator running in this process against a test's KubeSim, as the executable runs it; `stop` cancels it
/// the way SIGTERM would end the service group, and waits for it to finish.
public final class RunningOperator: Sendable {
    private let task: Task<Void, any Error>

    /// KubeSim's pods run no database, so by default the engine adapters reach none; a test that runs engine servers
    /// maps pods onto them with `podAddressing`. With `restartsWhenLeadershipIsLost`, an operator that loses its lease
    /// (its renewals slowed past the deadline on a loaded machine) starts again, as the Deployment's kubelet restarts it.
    public init(
        client: KubeClient, leaderElection: LeaderElector.Configuration? = nil, workers: Int = 4,
        metricsFactory: (any MetricsFactory)? = nil, podAddressing: PodAddressing = .unreachable,
        engines: EngineAdapters = .standard, pipelineStatusInterval: Duration = .seconds(10),
        restartsWhenLeadershipIsLost: Bool = false
    ) {
        var logger = Logger(label: "test.operator")
        logger.logLevel = .warning
        var options = OperatorManager.Options(
            workers: workers, leaderElection: leaderElection,
            informerTiming: InformerTiming(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(500)),
            engines: engines, podAddressing: podAddressing)
        options.pipelineStatusInterval = pipelineStatusInterval
        let settled = options
        task = Task {
            while true {
                do {
                    try await OperatorManager(client: client, options: settled, metricsFactory: metricsFactory, logger: logger).run()
                    return
                } catch is LeaderElectionError where restartsWhenLeadershipIsLost && !Task.isCancelled {
                    continue
                }
            }
        }
    }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// How the operator ended by itself (as when it loses its lease), without stopping it.
    public func exit() async -> Result<Void, any Error> {
        await task.result
    }
}

/// Both addons as `kubectl apply -f deploy/addons/` installs them, and the CRDs.
public func installOperatorPrerequisites(_ client: KubeClient) async throws {
    try await installVectorBlocksCRDs(client)
    _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
    for addon in [Addon.qdrant, Addon.pgvector] {
        let objects = try addon.objects()
        for configMap in objects.configMaps { _ = try await client.create(configMap) }
        _ = try await client.create(objects.definition)
        _ = try await client.create(objects.version)
    }
}

public func exampleCluster(_ file: String, name: String? = nil, namespace: String = "default") throws -> Cluster {
    var cluster = try decodeYAML("examples/\(file)", as: Cluster.self)
    if let name { cluster.metadata?.name = name }
    cluster.metadata?.namespace = namespace
    return cluster
}

/// Creates the example Qdrant Cluster `name` with `replicas`, waits until it is Running, and joins each of its pods
/// to the Qdrant double as a peer, with the Raft URI the addon's start script gives a pod.
public func createRunningQdrantCluster(_ name: String, replicas: Int32, client: KubeClient, peersOf qdrant: QdrantServer) async throws {
    var cluster = try exampleCluster("qdrant-cluster.yaml", name: name)
    cluster.spec.componentSpecs[0].replicas = replicas
    _ = try await client.create(cluster)
    _ = try await waitForPhase(.running, name, client: client)
    for ordinal in 0..<Int(replicas) {
        await qdrant.addPeer(uri: "http://\(name)-qdrant-\(ordinal).\(name)-qdrant-headless.default.svc.cluster.local:6335")
    }
}

/// Polls, boundedly, until `check` returns a value; the last error or nil tells what was seen. Convergence on a
/// loaded two-core machine can take a while, so the bound is generous and says nothing about speed.
public func eventually<Value: Sendable>(
    _ what: String, timeout: Duration = .seconds(180), every interval: Duration = .milliseconds(100),
    _ check: () async throws -> Value?
) async throws -> Value {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var lastError: (any Error)?
    while clock.now < deadline {
        do {
            if let value = try await check() { return value }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: interval)
    }
    throw TestSetupError("timed out waiting for \(what)\(lastError.map { ": last error \($0)" } ?? "")")
}

public func waitForPhase(_ phase: ClusterPhase, _ name: String, client: KubeClient, namespace: String = "default") async throws -> Cluster {
    try await eventually("cluster \(name) to be \(phase.rawValue)") {
        let cluster = try await client.get(Cluster.self, name: name, namespace: namespace)
        return cluster.status?.phase == phase && cluster.status?.observedGeneration == cluster.metadata?.generation ? cluster : nil
    }
}

/// The names of one kind's objects labelled as the cluster's.
public func objectNames(_ resource: ResourceDescriptor, cluster: String, client: KubeClient, namespace: String = "default") async throws -> [String] {
    let list = try await client.list(
        resource, namespace: namespace,
        options: ListOptions(labelSelector: "app.kubernetes.io/instance=\(cluster),app.kubernetes.io/managed-by=vectorblocks"))
    return list.items.compactMap { $0["metadata"]?["name"]?.stringValue }.sorted()
}
