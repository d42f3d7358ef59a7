import Foundation
import KubeKit
import KubeSim
import Logging
import OperatorKit
import ServiceLifecycle
import VectorBlocksAPI
import VectorBlocksOperator
import VectorBlocksPackaging

/// A whole VectorBlocks installation in one process, for a laptop with no cluster: KubeSim with its simulated
/// kubelets, the CRDs and both addons installed, and the operator running, with a kubeconfig for kbctl and kubectl.
public final class Playground: Sendable {
    public let server: KubeSimServer
    public let client: KubeClient
    public let kubeconfigPath: String
    private let manager: OperatorManager

    /// How the playground's pods run: simulated (a status only, anywhere Swift runs), or as processes for the images
    /// of the map (Linux, root), the others still simulated.
    public enum Pods: Sendable {
        case simulated
        case processes(ImageMap)
    }

    /// Starts the API server and installs the CRDs and addons; the operator runs inside `run(until:)`.
    public static func start(port: Int = 0, kubeconfigPath: String, pods: Pods = .simulated, logger: Logger) async throws -> Playground {
        var configuration = KubeSimConfiguration()
        var workloads = WorkloadSimulation()
        // Engines the operator can reach: those whose pods run. Simulated pods run no database, so there is no engine
        // to move shards off or ask for roles.
        var engines = EngineAdapters([:])
        if case .processes(let imageMap) = pods {
            workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: imageMap))
            if imageMap.entry(for: "pgvector/pgvector") != nil { engines = EngineAdapters(["postgresql": PgvectorAdapter()]) }
        }
        configuration.workloads = workloads
        let server = try await KubeSimServer.start(host: "127.0.0.1", port: port, configuration: configuration)
        do {
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
            let client = try KubeClient(configuration: KubeClientConfiguration(server: server.baseURL), logger: logger)
            do {
                try await install(client)
            } catch {
                try? await client.shutdown()
                throw error
            }
            var options = OperatorManager.Options(engines: engines)
            // A demo's pipeline moves in seconds; its status follows closely.
            options.pipelineStatusInterval = .seconds(2)
            let manager = OperatorManager(client: client, options: options, logger: logger)
            return Playground(server: server, client: client, kubeconfigPath: kubeconfigPath, manager: manager)
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    private init(server: KubeSimServer, client: KubeClient, kubeconfigPath: String, manager: OperatorManager) {
        self.server = server
        self.client = client
        self.kubeconfigPath = kubeconfigPath
        self.manager = manager
    }

    /// The CRDs, the addons' namespace, and the Qdrant and pgvector addons.
    static func install(_ client: KubeClient) async throws {
        for crd in try ShippedCRDs.documents() {
            _ = try await client.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
        }
        _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
        for addon in Addon.all {
            let objects = try addon.objects()
            for configMap in objects.configMaps { _ = try await client.create(configMap) }
            _ = try await client.create(objects.definition)
            _ = try await client.create(objects.version)
        }
    }

    /// Runs the operator while `work` runs, and stops it when `work` returns; the operator is a child task, so
    /// nothing of it outlives this call.
    public func run<Result: Sendable>(until work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await self.manager.run()
                return nil
            }
            group.addTask { try await work() }
            defer { group.cancelAll() }
            while let finished = try await group.next() {
                if let result = finished { return result }
            }
            throw CancellationError()
        }
    }

    /// Stops the API server and the client; call after `run(until:)` returned.
    public func stop() async {
        try? await client.shutdown()
        try? await server.shutdown()
    }
}

extension Playground: Service {
    /// Serves until the service group shuts down gracefully (SIGINT or SIGTERM for the executable), then stops.
    public func run() async throws {
        try await run(until: { try? await gracefulShutdown() })
        await stop()
    }
}

extension Playground.Pods {
    /// Whether a VectorPipeline's Pelican and Emu pods run (their images are in the map).
    public var runsPipelineWorkers: Bool {
        guard case .processes(let imageMap) = self else { return false }
        return ["vectorblocks/pelican", "vectorblocks/emu"].allSatisfy { imageMap.entry(for: $0) != nil }
    }
}
