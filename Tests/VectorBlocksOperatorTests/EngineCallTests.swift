import KubeKit
import KubeSim
import MetricsTestKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Counts the questions the operator asks an engine.
private actor CountingAdapter: EngineAdapter {
    var roleQuestions = 0
    var readyCalls = 0

    func roles(_ component: EngineComponent) async -> [String: String] {
        roleQuestions += 1
        return [:]
    }

    func componentReady(_ component: EngineComponent) async throws {
        readyCalls += 1
    }
}

/// Engine I/O stays off the hot path: a reconcile that sees the same pods asks the engine nothing.
@Suite("Engine calls")
struct EngineCallTests {
    @Test func theEngineIsAskedOnlyWhenItsPodsChange() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let adapter = CountingAdapter()
            let metrics = TestMetrics()
            let running = RunningOperator(client: client, metricsFactory: metrics, engines: EngineAdapters(["qdrant": adapter]))
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "quiet"))
            _ = try await waitForPhase(.running, "quiet", client: client)
            let questions = await adapter.roleQuestions
            #expect(questions >= 1)
            #expect(await adapter.readyCalls >= 1)

            // A change of the Cluster's metadata reconciles it; its pods are as they were.
            let reconciles = {
                metrics.counterTotal(label: "controller_runtime_reconcile_total", dimensions: [("controller", "cluster"), ("result", "success")])
            }
            let before = reconciles()
            _ = try await client.patch(Cluster.self, name: "quiet", namespace: "default", patch: .merge(["metadata": ["annotations": ["touched": "yes"]]]))
            _ = try await eventually("the annotated cluster to be reconciled") { reconciles() > before ? true : nil }
            #expect(await adapter.roleQuestions == questions)

            // A pod that stops being ready is a change the engine is asked about.
            let pod = try #require(try await objectNames(CoreV1.Pod.descriptor, cluster: "quiet", client: client).first)
            try await server.setPodReady(false, pod)
            _ = try await eventually("the engine to be asked about the unready pod") {
                await adapter.roleQuestions > questions ? true : nil
            }
            await running.stop()
        }
    }
}
