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
        /// Tests shorten the informers' reconnect backoff.
        public var informerTiming: InformerTiming
        /// Where credential passwords come from; tests pass a fixed generator.
        public var secretGenerator: any SecretGenerator
        public var engines: EngineAdapters
        /// How the engine adapters reach pods: their IPs in a cluster; tests map them onto local servers.
        public var podAddressing: PodAddressing
        /// The images of the pipelines' Pelican and Emu; the operator's own release unless flags say otherwise.
        public var pipelineImages: PipelineImages = .release
        /// How often each pipeline's backlog, lag and backfill are read from its source database.
        public var pipelineStatusInterval: Duration = .seconds(10)
        /// The image of vectorblocks-backup, which pgvector backup Jobs copy into the cluster's PostgreSQL image.
        public var backupImage: String = Options.releaseBackupImage
        public static let releaseBackupImage = Release.image(Release.backupRepository)

        public init(
            namespaces: [String] = [], workers: Int = 4, leaderElection: LeaderElector.Configuration? = nil,
            component: String = "vectorblocks-operator", informerTiming: InformerTiming = .init(),
            secretGenerator: any SecretGenerator = SystemSecretGenerator(), engines: EngineAdapters = .standard,
            podAddressing: PodAddressing = .podIP
        ) {
            self.engines = engines
            self.podAddressing = podAddressing
            self.namespaces = namespaces
            self.workers = workers
            self.leaderElection = leaderElection
            self.component = component
            self.informerTiming = informerTiming
            self.secretGenerator = secretGenerator
        }
    }

    private let client: KubeClient
    let options: Options
    let logger: Logger
    let metricsFactory: (any MetricsFactory)?
    /// What the controllers see; a benchmark in the same process reads it instead of listing over the API.
    public let caches: OperatorCaches
    private let running = RunningControllers()

    public init(
        client: KubeClient, options: Options, metricsFactory: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "vectorblocks.operator")
    ) {
        self.client = client
        self.options = options
        self.logger = logger
        self.metricsFactory = metricsFactory
        caches = OperatorCaches(
            client: client, namespaces: options.namespaces, timing: options.informerTiming, logger: logger)
    }

    /// Ready once every informer has loaded its first list.
    public func cachesSynced() async -> Bool {
        await caches.hasSynced()
    }

    /// Live unless a reconcile has hung for `limit` or an informer has stalled (each named in the log).
    public func controllersLive(limit: Duration = .seconds(300)) async -> Bool {
        var live = true
        for controller in await running.controllers {
            guard let problem = await controller.livenessProblem(limit: limit) else { continue }
            logger.error("not live", metadata: ["problem": "\(problem)"])
            live = false
        }
        return live
    }

    public func run() async throws {
        let elector = options.leaderElection.map {
            LeaderElector(client: client, configuration: $0, metricsFactory: metricsFactory, logger: logger)
        }
        // The controllers write only while the lease is surely held; the informers only read.
        let writer = elector.map { client.fenced(by: $0.fence) } ?? client
        let events = EventRecorder(client: writer, component: options.component, logger: logger)
        let controllers = await makeControllers(client: writer, events: events)
        await running.set(controllers)
        let caches = self.caches
        // Runs until the service group shuts down (cancelling everything) or leadership is lost (an error that
        // ends the group, and with it the process).
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await caches.run() }
                group.addTask { try await Self.lead(elector) { await Self.run(controllers) } }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private static func lead(_ elector: LeaderElector?, _ whileLeading: @escaping @Sendable () async -> Void) async throws {
        guard let elector else {
            await whileLeading()
            return
        }
        try await elector.run(whileLeading: whileLeading)
    }

    /// `client` writes; with leader election it is fenced by the lease.
    private func makeControllers(client: KubeClient, events: EventRecorder) async -> [Controller] {
        let engines = EngineHooks(
            client: client, caches: caches, adapters: options.engines, addressing: options.podAddressing, logger: logger,
            calls: EngineCallMetrics(factory: metricsFactory))
        let definitions = caches.definitions
        let versions = caches.versions
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

        var clusterReconciler = ClusterReconciler(
            client: client, caches: caches, events: events, engines: engines, generator: options.secretGenerator, logger: logger)
        clusterReconciler.backupImage = options.backupImage
        let clusterController = Controller(
            name: "cluster",
            reconciler: clusterReconciler,
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        let caches = self.caches
        // Its own status writes, once the cache shows them, would only wake it to find what it wrote; any other status
        // change (a designated primary moved by a Switchover's compare-and-swap) wakes it, as only it promotes and fences.
        await clusterController.for(
            caches.clusters, filter: .specOrMetadataChanged || .statusChanged(\.status, exceptEchoesOf: clusterReconciler.statusWrites))
        await clusterController.owns(caches.statefulSets, ownedBy: Cluster.self)
        await clusterController.owns(caches.deployments, ownedBy: Cluster.self)
        await clusterController.owns(caches.services, ownedBy: Cluster.self)
        await clusterController.owns(caches.configMaps, ownedBy: Cluster.self)
        await clusterController.owns(caches.secrets, ownedBy: Cluster.self)
        await clusterController.owns(caches.podDisruptionBudgets, ownedBy: Cluster.self)
        // Pods and PVCs belong to the workloads, not the Cluster; their instance label names it.
        let byInstance: @Sendable (MetaV1.ObjectMeta?) -> [ObjectKey] = { metadata in
            guard let instance = metadata?.labels?[ClusterNames.instanceLabel] else { return [] }
            return [ObjectKey(namespace: metadata?.namespace, name: instance)]
        }
        await clusterController.watches(caches.pods, filter: PodEvents.outcomeRelevant) { byInstance($0.object.metadata) }
        await clusterController.watches(caches.volumeClaims) { byInstance($0.object.metadata) }
        await clusterController.watches(definitions) { event in
            guard let name = event.object.metadata?.name else { return [] }
            return await ClusterReconciler.clusters(usingDefinition: name, in: caches.clusters)
        }
        // A template that appears or changes wakes every Cluster whose definition names it.
        let clusterQueue = clusterController.queue
        await caches.templates.onChange { template in
            for definition in await definitions.cache.list() where definition.names(template) {
                guard let name = definition.metadata?.name else { continue }
                for key in await ClusterReconciler.clusters(usingDefinition: name, in: caches.clusters) {
                    await clusterQueue.add(key)
                }
            }
        }
        await clusterController.watches(versions) { event in
            await ClusterReconciler.clusters(usingDefinition: event.object.spec.clusterDefinitionRef, in: caches.clusters)
        }

        let opsController = Controller(
            name: "opsrequest",
            reconciler: OpsRequestReconciler(client: client, caches: caches, events: events, engines: engines, logger: logger),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        await opsController.for(caches.opsRequests)
        await opsController.watches(caches.clusters) { event in
            await OpsRequestReconciler.requests(for: event.object, in: caches.opsRequests)
        }
        // A request that ends lets the next one waiting on its Cluster start.
        await opsController.watches(caches.opsRequests) { event in
            guard
                let cluster = await caches.clusters.get(
                    name: event.object.spec.clusterRef, namespace: event.object.metadata?.namespace ?? "")
            else { return [] }
            return await OpsRequestReconciler.requests(for: cluster, in: caches.opsRequests)
        }
        let pipelineController = await makePipelineController(client: client, events: events)
        let backupControllers = await makeBackupControllers(client: client, events: events, engines: engines)
        return [definitionController, versionController, clusterController, opsController, pipelineController] + backupControllers
    }

    private func makePipelineController(client: KubeClient, events: EventRecorder) async -> Controller {
        let caches = self.caches
        let controller = Controller(
            name: "vectorpipeline",
            reconciler: PipelineReconciler(
                client: client, caches: caches, events: events, images: options.pipelineImages,
                statusInterval: options.pipelineStatusInterval, logger: logger),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        // Its own status writes would only wake it again; it looks again on its interval.
        await controller.for(caches.pipelines, filter: .specOrMetadataChanged)
        await controller.owns(caches.serviceAccounts, ownedBy: VectorPipeline.self)
        await controller.owns(caches.configMaps, ownedBy: VectorPipeline.self)
        await controller.owns(caches.services, ownedBy: VectorPipeline.self)
        await controller.owns(caches.deployments, ownedBy: VectorPipeline.self)
        await controller.owns(caches.autoscalers, ownedBy: VectorPipeline.self)
        // A sink's Cluster that appears, becomes Running or moves, and its credential, wake the pipelines using it.
        await controller.watches(caches.clusters) { event in
            guard let name = event.object.metadata?.name, let namespace = event.object.metadata?.namespace else { return [] }
            return await PipelineReconciler.pipelines(sinkingInto: name, namespace: namespace, in: caches.pipelines)
        }
        await controller.watches(caches.secrets) { event in
            guard let cluster = event.object.metadata?.labels?[ClusterNames.instanceLabel],
                let namespace = event.object.metadata?.namespace
            else { return [] }
            return await PipelineReconciler.pipelines(sinkingInto: cluster, namespace: namespace, in: caches.pipelines)
        }
        return controller
    }

    private static func run(_ controllers: [Controller]) async {
        await withTaskGroup(of: Void.self) { group in
            for controller in controllers {
                group.addTask { await controller.run() }
            }
        }
    }
}

/// The controllers of the current run, for the liveness probe.
private actor RunningControllers {
    private(set) var controllers: [Controller] = []

    func set(_ controllers: [Controller]) {
        self.controllers = controllers
    }
}
