import KubeKit
import Logging
import Metrics
import OperatorKit
import ServiceLifecycle
import VectorBlocksAPI

/// The operator as one service, as controller-runtime's manager: it starts the informers at once (so `/readyz`
/// can report their sync), waits to be leader, runs the controllers while it leads, and stops them and returns an
/// error the moment leadership is lost, so the process exits and a standby takes over.
public final class OperatorManager: Service {
    public struct Options: Sendable {
        /// Namespaces whose Clusters are managed; empty means every namespace.
        public var namespaces: [String]
        public var workers: Int
        /// nil runs without leader election (one replica, or tests).
        public var leaderElection: LeaderElector.Configuration?
        public var component: String

        public init(
            namespaces: [String] = [], workers: Int = 4, leaderElection: LeaderElector.Configuration? = nil,
            component: String = "vectorblocks-operator"
        ) {
            self.namespaces = namespaces
            self.workers = workers
            self.leaderElection = leaderElection
            self.component = component
        }
    }

    private let client: KubeClient
    private let options: Options
    private let logger: Logger
    private let metricsFactory: (any MetricsFactory)?
    private let definitions: Informer<ClusterDefinition>
    private let versions: Informer<ClusterVersion>

    public init(
        client: KubeClient, options: Options, metricsFactory: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "vectorblocks.operator")
    ) {
        self.client = client
        self.options = options
        self.logger = logger
        self.metricsFactory = metricsFactory
        definitions = Informer(client: client, logger: logger)
        versions = Informer(client: client, logger: logger)
    }

    /// Ready once every informer has loaded its first list.
    public func cachesSynced() async -> Bool {
        let definitionsSynced = await definitions.hasSynced()
        let versionsSynced = await versions.hasSynced()
        return definitionsSynced && versionsSynced
    }

    public func run() async throws {
        let events = EventRecorder(client: client, component: options.component, logger: logger)
        let controllers = await makeControllers(events: events)
        let definitions = self.definitions
        let versions = self.versions
        // Runs until the service group shuts down (cancelling everything) or leadership is lost (an error that
        // ends the group, and with it the process).
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await definitions.run() }
                group.addTask { await versions.run() }
                group.addTask { try await self.lead { await Self.run(controllers) } }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func lead(_ whileLeading: @escaping @Sendable () async -> Void) async throws {
        guard let configuration = options.leaderElection else {
            await whileLeading()
            return
        }
        let elector = LeaderElector(
            client: client, configuration: configuration, metricsFactory: metricsFactory, logger: logger)
        try await elector.run(whileLeading: whileLeading)
    }

    private func makeControllers(events: EventRecorder) async -> [Controller] {
        let definitionController = Controller(
            name: "clusterdefinition",
            reconciler: ClusterDefinitionReconciler(client: client, definitions: definitions.cache, events: events),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        await definitionController.for(definitions)

        let versionController = Controller(
            name: "clusterversion",
            reconciler: ClusterVersionReconciler(
                client: client, versions: versions.cache, definitions: definitions.cache, events: events),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        await versionController.for(versions)
        let versionCache = versions.cache
        await versionController.watches(definitions) { event in
            await ClusterVersionReconciler.affectedVersions(of: event, in: versionCache)
        }
        return [definitionController, versionController]
    }

    private static func run(_ controllers: [Controller]) async {
        await withTaskGroup(of: Void.self) { group in
            for controller in controllers {
                group.addTask { await controller.run() }
            }
        }
    }
}
