import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// When each type of OpsRequest is done, judged without a server from what the caches would show.
@Suite("OpsRequest completion (pure)")
struct OpsRequestProgressTests {
    let names = ClusterNames(cluster: "vectors", namespace: "default")

    /// The example Cluster as the Cluster controller leaves it at generation 2, in `phase`.
    func cluster(phase: ClusterPhase = .running, replicas: Int32 = 3) throws -> Cluster {
        var cluster = try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self).withDefaults()
        cluster.spec.componentSpecs[0].replicas = replicas
        cluster.metadata?.generation = 2
        cluster.status = ClusterStatus(phase: phase, observedGeneration: 2)
        return cluster
    }

    func ops(_ spec: OpsRequestSpec) -> OpsRequest {
        OpsRequest(metadata: .init(name: "ops"), spec: spec, status: OpsRequestStatus(clusterGeneration: 2))
    }

    func readyPods(_ count: Int) -> [CoreV1.Pod] {
        (0..<count).map { index in
            CoreV1.Pod(
                metadata: .init(name: "vectors-qdrant-\(index)", namespace: "default"),
                status: CoreV1.PodStatus(conditions: [.init(status: "True", type: "Ready")], phase: "Running"))
        }
    }

    @Test func scalingIsDoneWhenEveryWantedPodIsReadyAndTheClusterRuns() throws {
        let request = ops(OpsRequestSpec(clusterRef: "vectors", type: .horizontalScaling, horizontalScaling: [.init(componentName: "qdrant", replicas: 3)]))
        let partway = OpsRequestPlan.progress(
            request, cluster: try cluster(phase: .updating), names: names,
            observed: ["qdrant": .init(pods: readyPods(2))])
        #expect((partway.done, partway.total, partway.complete) == (2, 3, false))
        let done = OpsRequestPlan.progress(request, cluster: try cluster(), names: names, observed: ["qdrant": .init(pods: readyPods(3))])
        #expect((done.done, done.total, done.complete) == (3, 3, true))
        var stale = request
        stale.status?.clusterGeneration = 3
        #expect(!OpsRequestPlan.progress(stale, cluster: try cluster(), names: names, observed: ["qdrant": .init(pods: readyPods(3))]).complete)
    }

    @Test func stopIsDoneWhenNoPodIsLeft() throws {
        var request = ops(OpsRequestSpec(clusterRef: "vectors", type: .stop))
        request.status?.lastConfiguration = OpsRequestStatus.LastConfiguration(components: ["qdrant": .init(replicas: 3)])
        let stopping = OpsRequestPlan.progress(
            request, cluster: try cluster(phase: .stopping), names: names,
            observed: ["qdrant": .init(pods: readyPods(1))])
        #expect((stopping.done, stopping.total, stopping.complete) == (2, 3, false))
        let stopped = OpsRequestPlan.progress(request, cluster: try cluster(phase: .stopped), names: names, observed: ["qdrant": .init()])
        #expect(stopped.complete)
    }

    @Test func volumeExpansionWaitsForEveryClaimToGrow() throws {
        let request = ops(
            OpsRequestSpec(
                clusterRef: "vectors", type: .volumeExpansion,
                volumeExpansion: [
                    .init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "40Gi")])
                ]))
        var observation = OpsRequestPlan.ComponentObservation(pods: readyPods(3))
        for ordinal in 0..<3 {
            observation.claimCapacities[names.volumeClaim("data", component: "qdrant", ordinal: ordinal)] = Quantity("40Gi")
        }
        #expect(OpsRequestPlan.progress(request, cluster: try cluster(), names: names, observed: ["qdrant": observation]).complete)
        observation.claimCapacities[names.volumeClaim("data", component: "qdrant", ordinal: 2)] = Quantity("20Gi")
        #expect(!OpsRequestPlan.progress(request, cluster: try cluster(), names: names, observed: ["qdrant": observation]).complete)
    }

    @Test func exposeWaitsForTheLoadBalancersAddressAndReportsIt() throws {
        let request = ops(
            OpsRequestSpec(
                clusterRef: "vectors", type: .expose,
                expose: [
                    .init(componentName: "qdrant", services: [ClusterComponentService(name: "vpc", serviceType: .loadBalancer)])
                ]))
        // The Cluster as the request left it: its component has the load balancer Service.
        var exposed = try cluster()
        exposed.spec.componentSpecs[0].services = [ClusterComponentService(name: "vpc", serviceType: .loadBalancer)]
        var observation = OpsRequestPlan.ComponentObservation(pods: readyPods(3))
        #expect(!OpsRequestPlan.progress(request, cluster: exposed, names: names, observed: ["qdrant": observation]).complete)
        observation.loadBalancers["vectors-qdrant-vpc"] = "nlb.example.com"
        let done = OpsRequestPlan.progress(request, cluster: exposed, names: names, observed: ["qdrant": observation])
        #expect(done.complete)
        #expect(done.message.contains("vectors-qdrant-vpc: nlb.example.com"))
    }
}
