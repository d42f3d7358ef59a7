import KubeKit
import KubeSim
import TestSupport
import Testing

@testable import OperatorKit

/// A reconciler that never returns, as one waiting on a connection that hangs.
private struct HangingReconciler: Reconciler {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
        return .done
    }
}

/// `/healthz` must fail when the operator no longer reconciles, so the kubelet restarts it.
@Suite("Liveness")
struct LivenessTests {
    @Test func aReconcileThatHangsMakesTheControllerNotLive() async throws {
        try await withKubeSim { _, client in
            let informer = Informer<CoreV1.ConfigMap>(client: client, namespace: "default")
            let controller = Controller(name: "hanging", reconciler: HangingReconciler(), workers: 1)
            await controller.for(informer)
            let tasks = [Task { await informer.run() }, Task { await controller.run() }]
            defer { for task in tasks { task.cancel() } }
            await informer.waitForSync()
            #expect(await controller.livenessProblem(limit: .milliseconds(300)) == nil)

            _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "stuck", namespace: "default")))
            let problem = try await eventually("the hung reconcile to be reported") {
                await controller.livenessProblem(limit: .milliseconds(300))
            }
            #expect(problem.contains("a reconcile has run"))
        }
    }

    @Test func anInformerWhoseConnectionHangsStalls() async throws {
        try await withKubeSim { server, _ in
            let proxy = try await SeverableProxy.start(upstreamPort: server.port)
            let client = try KubeClient(configuration: KubeClientConfiguration(server: proxy.url))
            let informer = Informer<CoreV1.ConfigMap>(
                client: client, namespace: "default", timing: InformerTiming(watchTimeout: 1...1))
            let task = Task { await informer.run() }
            await informer.waitForSync()
            #expect(await !informer.isStalled(slack: .seconds(30)))

            proxy.sever()
            _ = try await eventually("the informer to stall") {
                await informer.isStalled(slack: .milliseconds(500)) ? true : nil
            }
            task.cancel()
            try await proxy.shutdown()
            _ = await task.result
            try await client.shutdown()
        }
    }
}
