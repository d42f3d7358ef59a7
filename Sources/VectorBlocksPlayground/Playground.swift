import Foundation
import KubeKit
import KubeSim
import Logging
import OperatorKit
import VectorBlocksAPI
import VectorBlocksOperator

/// A whole VectorBlocks installation in one process, for a laptop with no cluster: KubeSim with its simulated
/// kubelets, the CRDs and both addons installed, and the operator running, with a kubeconfig for kbctl and kubectl.
public final class Playground: Sendable {
    public let server: KubeSimServer
    public let client: KubeClient
    public let kubeconfigPath: String
    private let operatorTask: Task<Void, any Error>

    public static func start(port: Int = 0, kubeconfigPath: String, logger: Logger) async throws -> Playground {
        var configuration = KubeSimConfiguration()
        configuration.workloads = WorkloadSimulation()
        let server = try await KubeSimServer.start(host: "127.0.0.1", port: port, configuration: configuration)
        do {
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
            let client = try KubeClient(configuration: KubeClientConfiguration(server: server.baseURL), logger: logger)
            try await install(client)
            // The simulated pods run no database, so there is no engine to move shards off or ask for roles: the
            // playground shows the Kubernetes side of the operator, with its engine adapters off.
            let manager = OperatorManager(client: client, options: .init(engines: EngineAdapters([:])), logger: logger)
            let task = Task { try await manager.run() }
            return Playground(server: server, client: client, kubeconfigPath: kubeconfigPath, operatorTask: task)
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    private init(server: KubeSimServer, client: KubeClient, kubeconfigPath: String, operatorTask: Task<Void, any Error>) {
        self.server = server
        self.client = client
        self.kubeconfigPath = kubeconfigPath
        self.operatorTask = operatorTask
    }

    /// The CRDs as crds/ holds them, generated here from the types and the reference OpenAPI document KubeSim
    /// carries, so a built kbctl needs no checkout.
    public static func crdDocuments() throws -> [JSONValue] {
        let files = try GeneratedFiles.crds(openAPIDocument: KubeSimServer.referenceOpenAPIDocument())
        return try files.sorted { $0.key < $1.key }.flatMap { try ManifestYAML.parse($0.value) }
    }

    /// The CRDs, the addons' namespace, and the Qdrant and pgvector addons.
    static func install(_ client: KubeClient) async throws {
        for crd in try crdDocuments() {
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

    public func stop() async {
        operatorTask.cancel()
        _ = await operatorTask.result
        try? await client.shutdown()
        try? await server.shutdown()
    }
}
