import KubeKit
import Logging
import Metrics
import NIOConcurrencyHelpers

/// Runs a reconciler over a work queue fed by informers, as a controller-runtime controller does: `For` the primary
/// kind, `Owns` the kinds it creates (events map to the controlling owner), and `Watches` anything else through a
/// mapping. Workers start once every one of those informers has synced, never process one key at the same time, and
/// retry failures with per-key backoff.
public final class Controller: Sendable {
    public let name: String
    public let queue: WorkQueue<ObjectKey>
    private let sources = Sources()
    private let reconciler: any Reconciler
    private let workers: Int
    private let logger: Logger
    private let metrics: ReconcileMetrics
    private let startedWorkers = NIOLockedValueBox(false)

    /// Whether the caches synced and the workers started.
    var hasStartedWorkers: Bool { startedWorkers.withLockedValue { $0 } }

    public init(
        name: String, reconciler: any Reconciler, workers: Int = 4, backoff: WorkQueue<ObjectKey>.Backoff = .init(),
        metricsFactory: (any MetricsFactory)? = nil, logger: Logger = Logger(label: "operatorkit.controller")
    ) {
        self.name = name
        self.reconciler = reconciler
        self.workers = max(1, workers)
        self.queue = WorkQueue(name: name, backoff: backoff, metricsFactory: metricsFactory)
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
        self.metrics = ReconcileMetrics(controller: name, factory: metricsFactory)
    }

    /// The primary kind: every change `filter` admits queues that object's key.
    public func `for`<Object: KubernetesObject>(_ informer: Informer<Object>, filter: EventFilter<Object> = .all) async {
        await watches(informer, filter: filter) { event in ObjectKey(event.object).map { [$0] } ?? [] }
    }

    /// A kind this controller creates: a change `filter` admits queues the key of the object's controlling owner of
    /// `owner`'s kind.
    public func owns<Object: KubernetesObject, Owner: KubernetesObject>(
        _ informer: Informer<Object>, ownedBy owner: Owner.Type, filter: EventFilter<Object> = .all
    ) async {
        let ownerKind = Owner.descriptor
        await watches(informer, filter: filter) { event in
            guard
                let reference = event.object.metadata?.ownerReferences?.first(where: {
                    $0.controller == true && $0.kind == ownerKind.kind && $0.apiVersion == ownerKind.apiVersion
                })
            else { return [] }
            let namespace = ownerKind.namespaced ? event.object.metadata?.namespace : nil
            return [ObjectKey(namespace: namespace, name: reference.name)]
        }
    }

    /// Any kind, with a mapping from the events `filter` admits to the keys to reconcile.
    public func watches<Object: KubernetesObject>(
        _ informer: Informer<Object>, filter: EventFilter<Object> = .all,
        map: @escaping @Sendable (InformerEvent<Object>) async -> [ObjectKey]
    ) async {
        let queue = self.queue
        await sources.add(synced: { await informer.waitForSync() }, stalled: { await informer.isStalled(slack: $0) })
        await informer.addHandler { event in
            guard filter.admits(event) else { return }
            for key in await map(event) { await queue.add(key) }
        }
    }

    /// Runs the workers until the task is cancelled, then stops handing out keys. A reconcile that read a cache still
    /// loading would take a missing object for a deleted one (and, say, make a new password), so the workers wait for
    /// every informer the controller watches to sync, as controller-runtime's WaitForCacheSync does.
    public func run() async {
        guard await sources.waitForSync() else { return }
        logger.info("caches synced, starting workers", metadata: ["workers": "\(workers)"])
        startedWorkers.withLockedValue { $0 = true }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { await self.work() }
                }
            }
        } onCancel: {
            Task { await self.queue.shutDown() }
        }
    }

    /// Why the controller no longer does its job, or nil: a reconcile has run longer than `limit` (it hangs, and
    /// with every worker hung nothing is reconciled), or an informer it watches has stalled for `limit` past its
    /// longest watch. `/healthz` reports it so that the kubelet restarts the process.
    public func livenessProblem(limit: Duration) async -> String? {
        let longest = await queue.longestRunningProcessor
        if longest > limit {
            return "controller \(name): a reconcile has run for \(longest.components.seconds) s"
        }
        let stalled = await sources.stalledCount(slack: limit)
        return stalled > 0 ? "controller \(name): \(stalled) of its informers made no progress" : nil
    }

    private func work() async {
        while let key = await queue.next() {
            await process(key)
            await queue.done(key)
        }
    }

    private func process(_ key: ObjectKey) async {
        let started = ContinuousClock.now
        do {
            let result = try await reconciler.reconcile(key)
            await queue.forget(key)
            if let delay = result.requeueAfter {
                await queue.add(key, after: delay)
                metrics.record(.requeueAfter, since: started)
            } else {
                metrics.record(.success, since: started)
            }
        } catch let error as TerminalError {
            await queue.forget(key)
            metrics.record(.terminalError, since: started)
            logger.error("reconcile failed and will not be retried", metadata: ["key": "\(key)", "error": "\(error)"])
        } catch {
            await queue.addRateLimited(key)
            metrics.record(.error, since: started)
            logger.warning("reconcile failed, retrying", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}

/// The sync state and liveness of the informers a controller watches.
private actor Sources {
    private var synced: [@Sendable () async -> Void] = []
    private var stalled: [@Sendable (Duration) async -> Bool] = []

    func add(synced: @escaping @Sendable () async -> Void, stalled: @escaping @Sendable (Duration) async -> Bool) {
        self.synced.append(synced)
        self.stalled.append(stalled)
    }

    func stalledCount(slack: Duration) async -> Int {
        var count = 0
        for check in stalled where await check(slack) { count += 1 }
        return count
    }

    /// Whether every informer synced before the task was cancelled.
    func waitForSync() async -> Bool {
        for waitForSync in synced { await waitForSync() }
        return !Task.isCancelled
    }
}

/// controller-runtime's reconcile metrics: `controller_runtime_reconcile_total{controller,result}`,
/// `controller_runtime_reconcile_errors_total{controller}`,
/// `controller_runtime_terminal_reconcile_errors_total{controller}`, `controller_runtime_reconcile_time_seconds`.
struct ReconcileMetrics: Sendable {
    enum Outcome: String {
        case success, error
        case requeueAfter = "requeue_after"
        case terminalError = "error_terminal"
    }

    let controller: String
    let factory: (any MetricsFactory)?

    func record(_ outcome: Outcome, since started: ContinuousClock.Instant) {
        let result = outcome == .terminalError ? "error" : outcome.rawValue
        counter("controller_runtime_reconcile_total", [("controller", controller), ("result", result)]).increment()
        if outcome == .error || outcome == .terminalError {
            counter("controller_runtime_reconcile_errors_total", [("controller", controller)]).increment()
        }
        if outcome == .terminalError {
            counter("controller_runtime_terminal_reconcile_errors_total", [("controller", controller)]).increment()
        }
        let timer =
            factory.map {
                Timer(label: "controller_runtime_reconcile_time_seconds", dimensions: [("controller", controller)], factory: $0)
            } ?? Timer(label: "controller_runtime_reconcile_time_seconds", dimensions: [("controller", controller)])
        timer.recordNanoseconds(WorkQueue<ObjectKey>.nanoseconds(ContinuousClock.now - started))
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        factory.map { Counter(label: label, dimensions: dimensions, factory: $0) }
            ?? Counter(label: label, dimensions: dimensions)
    }
}
