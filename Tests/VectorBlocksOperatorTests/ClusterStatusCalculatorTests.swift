import KubeKit
import OperatorKit
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

@Suite("Cluster status")
struct ClusterStatusCalculatorTests {
    let t0 = MetaV1.Time(rfc3339: "2026-11-22T00:00:00Z")!
    let t1 = MetaV1.Time(rfc3339: "2026-11-22T00:01:00Z")!

    func cluster(generation: Int64 = 1, status: ClusterStatus? = nil) -> Cluster {
        var cluster = Cluster(
            metadata: .init(generation: generation, name: "orders", namespace: "default"),
            spec: ClusterSpec(
                clusterDefinitionRef: "qdrant", terminationPolicy: .delete,
                componentSpecs: [ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", replicas: 3)]))
        cluster.status = status
        return cluster
    }

    func pod(_ index: Int, ready: Bool, phase: String = "Running") -> CoreV1.Pod {
        CoreV1.Pod(
            metadata: .init(name: "orders-qdrant-\(index)", namespace: "default"),
            status: CoreV1.PodStatus(
                conditions: [.init(status: ready ? "True" : "False", type: "Ready")],
                containerStatuses: [
                    .init(image: "qdrant/qdrant:v1.12.5", imageID: "", name: "qdrant", ready: ready, restartCount: 0)
                ],
                phase: phase))
    }

    func observation(
        ready: Int, of replicas: Int32 = 3, generation: Int64 = 1, observed: Int64 = 1, failed: Int = 0
    )
        -> ComponentObservation
    {
        var pods = (0..<Int(replicas)).map { pod($0, ready: $0 < ready) }
        for index in 0..<failed { pods[Int(replicas) - 1 - index] = pod(Int(replicas) - 1 - index, ready: false, phase: "Failed") }
        return ComponentObservation(
            name: "qdrant", desiredReplicas: replicas,
            workload: WorkloadState(
                generation: generation, observedGeneration: observed, replicas: replicas, readyReplicas: Int32(ready),
                updatedReplicas: replicas),
            pods: pods)
    }

    func condition(_ status: ClusterStatus, _ type: ClusterStatus.ConditionType) -> MetaV1.Condition? {
        Conditions.find(status.conditions, type: type.rawValue)
    }

    @Test func aMissingDefinitionFailsThePreCheckWithTheReason() {
        let status = ClusterStatusCalculator.status(
            for: cluster(), components: [],
            outcome: .init(preCheckProblem: "spec.clusterDefinitionRef: ClusterDefinition \"qdrant\" not found"), now: t0)
        #expect(status.phase == .failed)
        #expect(status.message?.contains("not found") == true)
        #expect(condition(status, .provisioningStarted)?.status == "False")
        #expect(condition(status, .provisioningStarted)?.reason == "PreCheckFailed")
        #expect(condition(status, .ready)?.status == "False")
        #expect(status.observedGeneration == 1, "the verdict is about the generation that was checked")
    }

    @Test func podsComingUpAreCreatingThenRunning() {
        let creating = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 1)], outcome: .init(), now: t0)
        #expect(creating.phase == .creating)
        #expect(creating.components?["qdrant"]?.phase == .creating)
        #expect(creating.components?["qdrant"]?.podsReady == false)
        #expect(condition(creating, .replicasReady)?.message == "qdrant: 1/3 ready")
        #expect(condition(creating, .applyResources)?.status == "True")
        #expect(creating.observedGeneration == 1)

        let running = ClusterStatusCalculator.status(
            for: cluster(status: creating), components: [observation(ready: 3)], outcome: .init(), now: t1)
        #expect(running.phase == .running)
        #expect(running.components?["qdrant"]?.podsReadyTime == t1)
        #expect(condition(running, .replicasReady)?.status == "True")
        #expect(condition(running, .ready)?.status == "True")
        // ProvisioningStarted did not change status, so its transition time stays at the first observation.
        #expect(condition(running, .provisioningStarted)?.lastTransitionTime == t0)
    }

    @Test func aRunningClusterThatLosesAPodIsAbnormalAndASpecChangeIsUpdating() {
        let running = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 3)], outcome: .init(), now: t0)
        let degraded = ClusterStatusCalculator.status(
            for: cluster(status: running), components: [observation(ready: 2)], outcome: .init(), now: t1)
        #expect(degraded.phase == .abnormal)
        #expect(degraded.components?["qdrant"]?.message?["Pod/orders-qdrant-2"] == "container qdrant is not ready")

        let updating = ClusterStatusCalculator.status(
            for: cluster(generation: 2, status: running), components: [observation(ready: 3, generation: 2, observed: 1)],
            outcome: .init(), now: t1)
        #expect(updating.phase == .updating)
        #expect(updating.observedGeneration == 2)
    }

    @Test func failedPodsAndStoppedComponents() {
        let partlyFailed = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 2, failed: 1)], outcome: .init(), now: t0)
        #expect(partlyFailed.phase == .abnormal)
        let allFailed = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 0, failed: 3)], outcome: .init(), now: t0)
        #expect(allFailed.phase == .failed)

        let stopping = ComponentObservation(
            name: "qdrant", desiredReplicas: 0,
            workload: WorkloadState(generation: 2, observedGeneration: 2, replicas: 0, readyReplicas: 0, updatedReplicas: 0),
            pods: [pod(0, ready: true)])
        #expect(ClusterStatusCalculator.status(for: cluster(), components: [stopping], outcome: .init(), now: t0).phase == .stopping)
        var stopped = stopping
        stopped.pods = []
        #expect(ClusterStatusCalculator.status(for: cluster(), components: [stopped], outcome: .init(), now: t0).phase == .stopped)
    }

    @Test func anApplyFailureIsAConditionAndKeepsTheObservedGeneration() {
        let running = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 3)], outcome: .init(), now: t0)
        let failedApply = ClusterStatusCalculator.status(
            for: cluster(generation: 2, status: running), components: [observation(ready: 3)],
            outcome: .init(applyProblem: "StatefulSet orders-qdrant: 422 Invalid: spec.replicas"), now: t1)
        #expect(failedApply.observedGeneration == 1)
        #expect(condition(failedApply, .applyResources)?.status == "False")
        #expect(condition(failedApply, .applyResources)?.reason == "ApplyResourcesFailed")
        #expect(failedApply.phase == .abnormal)
        #expect(failedApply.message?.contains("422") == true)
    }

    @Test func aScaleInIsProgressingRefusedOrDoneInItsCondition() {
        // Spec 3, the workload still at 5 while the engine readies the leaving pods.
        var holding = observation(ready: 5, of: 5)
        holding.desiredReplicas = 3
        let before = ClusterStatusCalculator.status(for: cluster(), components: [observation(ready: 3)], outcome: .init(), now: t0)
        #expect(condition(before, .scaleIn) == nil)

        let moving = ClusterStatusCalculator.status(
            for: cluster(generation: 2, status: before), components: [holding],
            outcome: .init(scaleIn: ["qdrant": .waiting("moving 4 shard replica(s)")]), now: t1)
        #expect(condition(moving, .scaleIn)?.status == "False")
        #expect(condition(moving, .scaleIn)?.reason == "ScaleInProgressing")
        #expect(condition(moving, .scaleIn)?.message == "qdrant: moving 4 shard replica(s)")
        #expect(moving.phase == .updating)

        let refused = ClusterStatusCalculator.status(
            for: cluster(generation: 2, status: before), components: [holding],
            outcome: .init(scaleIn: ["qdrant": .refused("collection \"docs\" keeps 2 replicas")]), now: t1)
        #expect(condition(refused, .scaleIn)?.reason == ClusterStatusCalculator.scaleInRefused)
        #expect(refused.message == "scale-in refused, the replicas stay: qdrant: collection \"docs\" keeps 2 replicas")

        // Once the workload has shrunk no step is reported, and the earlier False condition turns True.
        let done = ClusterStatusCalculator.status(
            for: cluster(generation: 2, status: moving), components: [observation(ready: 3)], outcome: .init(), now: t1)
        #expect(condition(done, .scaleIn)?.status == "True")
        #expect(done.phase == .running)
    }

    @Test func theSameObservationGivesTheSameStatus() {
        let first = ClusterStatusCalculator.status(
            for: cluster(), components: [observation(ready: 3)], outcome: .init(), now: t0)
        let again = ClusterStatusCalculator.status(
            for: cluster(status: first), components: [observation(ready: 3)], outcome: .init(), now: t1)
        // Nothing changed, so nothing is written: the status is equal, transition times included.
        #expect(again == first)
    }
}
