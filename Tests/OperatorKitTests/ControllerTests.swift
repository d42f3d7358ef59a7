import KubeKit
import KubeSim
import MetricsTestKit
import TestSupport
import Testing

@testable import OperatorKit

/// A reconciler that records the keys it is called with and fails as told.
private actor RecordingReconciler: Reconciler {
    var calls: [ObjectKey] = []
    var failuresLeft: [String: Int] = [:]
    var terminal: Set<String> = []
    var requeueOnce: Set<String> = []

    func failing(_ name: String, times: Int) { failuresLeft[name] = times }
    func terminally(_ name: String) { terminal.insert(name) }
    func requeueing(_ name: String) { requeueOnce.insert(name) }

    struct Failure: Error {}

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        calls.append(key)
        if terminal.contains(key.name) { throw TerminalError(Failure()) }
        if let left = failuresLeft[key.name], left > 0 {
            failuresLeft[key.name] = left - 1
            throw Failure()
        }
        if requeueOnce.remove(key.name) != nil { return .requeue(after: .milliseconds(30)) }
        return .done
    }

    func count(_ name: String) -> Int { calls.filter { $0.name == name }.count }

    func waitFor(_ name: String, calls expected: Int) async -> Int {
        for _ in 0..<250 where count(name) < expected {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return count(name)
    }
}

@Suite("Controller")
struct ControllerTests {
    @Test func primaryAndOwnedObjectsQueueThePrimaryKey() async throws {
        try await withKubeSim { _, client in
            let reconciler = RecordingReconciler()
            let controller = Controller(name: "configmaps", reconciler: reconciler, workers: 2)
            let primaries = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            let secrets = Informer<CoreV1.Secret>(client: client, namespace: "default")
            await controller.for(primaries)
            await controller.owns(secrets, ownedBy: CoreV1.ConfigMap.self)
            let tasks = [Task { await primaries.run() }, Task { await secrets.run() }, Task { await controller.run() }]
            defer { for task in tasks { task.cancel() } }

            let owner = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "app", namespace: "default")))
            #expect(await reconciler.waitFor("app", calls: 1) >= 1)
            let before = await reconciler.count("app")
            var secret = CoreV1.Secret(metadata: .init(name: "app-credential", namespace: "default"))
            secret.metadata?.ownerReferences = [
                .init(apiVersion: "v1", controller: true, kind: "ConfigMap", name: "app", uid: owner.metadata?.uid ?? "")
            ]
            _ = try await client.create(secret)
            // The owned Secret's creation reconciles its owner, not the Secret.
            #expect(await reconciler.waitFor("app", calls: before + 1) == before + 1)
            #expect(await reconciler.count("app-credential") == 0)
        }
    }

    @Test func workersWaitUntilEveryWatchedInformerHasSynced() async throws {
        try await withKubeSim { _, client in
            _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "app", namespace: "default")))
            let reconciler = RecordingReconciler()
            let controller = Controller(name: "configmaps", reconciler: reconciler, workers: 2)
            let primaries = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            let secrets = Informer<CoreV1.Secret>(client: client, namespace: "default")
            await controller.for(primaries)
            await controller.watches(secrets) { _ in [] }
            // The Secrets' informer is not running yet: a reconcile now would read an empty cache as the truth.
            let running = [Task { await primaries.run() }, Task { await controller.run() }]
            defer { for task in running { task.cancel() } }
            await primaries.waitForSync()
            let app = ObjectKey(namespace: "default", name: "app")
            _ = try await eventually("the ConfigMap's key queued or reconciled") { () -> Bool? in
                let queued = await controller.queue.holds(app)
                let calls = await reconciler.count("app")
                return queued || calls > 0 ? true : nil
            }
            #expect(!controller.hasStartedWorkers)
            #expect(await reconciler.count("app") == 0)

            let secretsTask = Task { await secrets.run() }
            defer { secretsTask.cancel() }
            #expect(await reconciler.waitFor("app", calls: 1) == 1)
        }
    }

    @Test func failuresAreRetriedWithBackoffAndTerminalErrorsAreNot() async throws {
        let metrics = TestMetrics()
        try await withKubeSim { _, client in
            let reconciler = RecordingReconciler()
            await reconciler.failing("flaky", times: 2)
            await reconciler.terminally("broken")
            await reconciler.requeueing("polled")
            let controller = Controller(
                name: "test", reconciler: reconciler, backoff: .init(base: .milliseconds(5), cap: .milliseconds(50)),
                metricsFactory: metrics)
            let informer = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            await controller.for(informer)
            let tasks = [Task { await informer.run() }, Task { await controller.run() }]
            defer { for task in tasks { task.cancel() } }

            for name in ["flaky", "broken", "polled"] {
                _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: name, namespace: "default")))
            }
            #expect(await reconciler.waitFor("flaky", calls: 3) == 3)
            #expect(await reconciler.waitFor("polled", calls: 2) == 2)
            #expect(await reconciler.waitFor("broken", calls: 1) == 1)
            // Settled: no key is queued, being processed or waiting out a backoff or requeue, so none is reconciled
            // again without a new event.
            for name in ["flaky", "broken", "polled"] {
                let key = ObjectKey(namespace: "default", name: name)
                _ = try await eventually("\(name) settled") { await controller.queue.holds(key) ? nil : true }
            }
            #expect(await reconciler.count("broken") == 1)
            #expect(await reconciler.count("flaky") == 3)
            #expect(await controller.queue.failureCount(ObjectKey(namespace: "default", name: "flaky")) == 0)

            let total = { (result: String) in
                metrics.counterTotal(
                    label: "controller_runtime_reconcile_total", dimensions: [("controller", "test"), ("result", result)])
            }
            #expect(total("error") == 3)
            #expect(total("requeue_after") == 1)
            #expect(total("success") >= 2)
            #expect(metrics.counterTotal(label: "controller_runtime_terminal_reconcile_errors_total") == 1)
            #expect(metrics.counterTotal(label: "controller_runtime_reconcile_errors_total") == 3)
        }
    }
}
