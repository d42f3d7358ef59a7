import KubeKit
import Testing

@testable import OperatorKit

@Suite("Sync latch")
struct SyncLatchTests {
    @Test(.timeLimit(.minutes(1)))
    func waitersResumeWhenItOpensAndWhenTheyAreCancelled() async {
        let latch = SyncLatch()
        let cancelled = Task { await latch.wait() }
        cancelled.cancel()
        await cancelled.value
        #expect(!latch.isOpen)

        let waiting = Task { await latch.wait() }
        latch.open()
        await waiting.value
        #expect(latch.isOpen)
        await latch.wait()
    }

    /// A controller stopped before its informers could list (the server is unreachable) stops instead of hanging.
    @Test(.timeLimit(.minutes(1)))
    func aControllerStoppedBeforeItsCachesSyncReturns() async throws {
        let client = try KubeClient(configuration: KubeClientConfiguration(server: "http://127.0.0.1:1"))
        let informer = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
        let controller = Controller(name: "unsynced", reconciler: NeverCalled(), workers: 1)
        await controller.for(informer)
        let running = Task { await controller.run() }
        running.cancel()
        await running.value
        #expect(await !informer.hasSynced())
        try await client.shutdown()
    }
}

private struct NeverCalled: Reconciler {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        Issue.record("reconciled \(key) with no synced cache")
        return .done
    }
}
