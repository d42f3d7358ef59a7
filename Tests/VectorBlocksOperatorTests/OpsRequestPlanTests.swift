import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

@Suite("OpsRequest plan (pure)")
struct OpsRequestPlanTests {
    func cluster() throws -> Cluster {
        var cluster = try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self).withDefaults()
        cluster.metadata?.generation = 1
        return cluster
    }

    func versions() throws -> [ClusterVersion] {
        var next = try Addon.qdrant.objects().version
        next.metadata?.name = "qdrant-1.13.0"
        return [try Addon.qdrant.objects().version, next, try Addon.pgvector.objects().version]
    }

    @Test func horizontalScalingEditsReplicasAndCancelRestoresThem() throws {
        let before = try cluster()
        let ops = OpsRequest(
            metadata: .init(name: "hs"),
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .horizontalScaling, horizontalScaling: [.init(componentName: "qdrant", replicas: 5)]))
        #expect(OpsRequestPlan.validate(ops, cluster: before, versions: try versions()).isEmpty)
        let last = OpsRequestPlan.lastConfiguration(ops, cluster: before)
        #expect(last.components?["qdrant"]?.replicas == 3)
        let after = OpsRequestPlan.applied(ops, to: before, stamp: "")
        #expect(after.spec.componentSpecs[0].replicas == 5)
        #expect(OpsRequestPlan.restored(last, ops: ops, cluster: after).spec == before.spec)
    }

    @Test func verticalScalingMergesAndChecksAgainstTheLimitsItKeeps() throws {
        let before = try cluster()
        let ops = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .verticalScaling,
                verticalScaling: [
                    .init(componentName: "qdrant", requests: ["cpu": "1"])
                ]))
        let after = OpsRequestPlan.applied(ops, to: before, stamp: "")
        #expect(after.spec.componentSpecs[0].resources?.requests?["cpu"] == Quantity("1"))
        #expect(after.spec.componentSpecs[0].resources?.limits?["memory"] == Quantity("4Gi"), "what the request does not name stays")
        // The example's limit is 4Gi: a request above it is refused before anything changes.
        let tooBig = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .verticalScaling,
                verticalScaling: [
                    .init(componentName: "qdrant", requests: ["memory": "8Gi"])
                ]))
        let problems = OpsRequestPlan.validate(tooBig, cluster: before, versions: try versions())
        #expect(problems.map(\.field) == ["spec.verticalScaling[0].requests[memory]"], "\(problems)")
        #expect(problems.first?.message.contains("limit of 4Gi") == true, "\(problems)")
    }

    @Test func badRequestsNameTheFieldAndTheFix() throws {
        let before = try cluster()
        let cases: [(OpsRequestSpec, String, String)] = [
            (
                OpsRequestSpec(clusterRef: "vectors", type: .horizontalScaling, horizontalScaling: [.init(componentName: "qdrnt", replicas: 1)]),
                "spec.horizontalScaling[0].componentName", "use one of: qdrant"
            ),
            (
                OpsRequestSpec(
                    clusterRef: "vectors", type: .volumeExpansion,
                    volumeExpansion: [
                        .init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "10Gi")])
                    ]),
                "spec.volumeExpansion[0].volumeClaimTemplates[0].storage", "20Gi"
            ),
            (
                OpsRequestSpec(clusterRef: "vectors", type: .upgrade, upgrade: .init(clusterVersionRef: "pgvector-17")),
                "spec.upgrade.clusterVersionRef", "name a ClusterVersion of qdrant"
            ),
            (
                OpsRequestSpec(clusterRef: "vectors", type: .upgrade, upgrade: .init(clusterVersionRef: "qdrant-9")),
                "spec.upgrade.clusterVersionRef", "qdrant-1.12.5, qdrant-1.13.0"
            ),
            (OpsRequestSpec(clusterRef: "vectors", type: .start), "spec.type", "Start only a Cluster"),
        ]
        for (spec, field, fix) in cases {
            let problems = OpsRequestPlan.validate(OpsRequest(spec: spec), cluster: before, versions: try versions())
            #expect(problems.contains { $0.field == field && ($0.fix.contains(fix) || $0.message.contains(fix)) }, "\(spec.type): \(problems)")
        }
    }

    @Test func stopRemembersReplicasAndStartBringsThemBack() throws {
        let before = try cluster()
        let stopped = OpsRequestPlan.applied(OpsRequest(spec: .init(clusterRef: "vectors", type: .stop)), to: before, stamp: "")
        #expect(stopped.spec.componentSpecs.allSatisfy { $0.replicas == 0 })
        #expect(stopped.metadata?.annotations?[OpsRequestPlan.stoppedReplicasAnnotation] == "qdrant=3")
        let start = OpsRequest(spec: .init(clusterRef: "vectors", type: .start))
        #expect(OpsRequestPlan.validate(start, cluster: stopped, versions: try versions()).isEmpty)
        let started = OpsRequestPlan.applied(start, to: stopped, stamp: "")
        #expect(started.spec.componentSpecs[0].replicas == 3)
        #expect(started.metadata?.annotations?[OpsRequestPlan.stoppedReplicasAnnotation] == nil)
    }

    @Test func restartStampsTheComponentAndTheBuilderRollsItsPods() throws {
        let ops = OpsRequest(spec: .init(clusterRef: "vectors", type: .restart, restart: [.init(componentName: "qdrant")]))
        let (input, _) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        var restarted = input
        restarted.cluster = OpsRequestPlan.applied(ops, to: input.cluster, stamp: "2026-12-01T10:00:00Z")
        #expect(restarted.cluster.spec == input.cluster.spec)
        let objects = try ClusterObjectsBuilder.objects(restarted)
        let statefulSet = try #require(objects.first { $0.resource.kind == "StatefulSet" }).body
        #expect(statefulSet["spec"]?["template"]?["metadata"]?["annotations"]?[ClusterObjectsBuilder.podRestartAnnotation] == "2026-12-01T10:00:00Z")
    }

    @Test func exposeSetsTheComponentServicesAndUpgradeTheVersion() throws {
        let before = try cluster()
        let expose = OpsRequest(
            spec: .init(
                clusterRef: "vectors", type: .expose,
                expose: [
                    .init(
                        componentName: "qdrant", services: [ClusterComponentService(name: "internet", serviceType: .loadBalancer)])
                ]))
        #expect(OpsRequestPlan.applied(expose, to: before, stamp: "").spec.componentSpecs[0].services?.first?.name == "internet")
        let hide = OpsRequest(spec: .init(clusterRef: "vectors", type: .expose, expose: [.init(componentName: "qdrant", services: [])]))
        #expect(OpsRequestPlan.applied(hide, to: before, stamp: "").spec.componentSpecs[0].services == nil)
        let upgrade = OpsRequest(spec: .init(clusterRef: "vectors", type: .upgrade, upgrade: .init(clusterVersionRef: "qdrant-1.13.0")))
        #expect(OpsRequestPlan.validate(upgrade, cluster: before, versions: try versions()).isEmpty)
        #expect(OpsRequestPlan.applied(upgrade, to: before, stamp: "").spec.clusterVersionRef == "qdrant-1.13.0")
    }
}
