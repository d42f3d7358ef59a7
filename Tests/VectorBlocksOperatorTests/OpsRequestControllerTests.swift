import Foundation
import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// OpsRequests end to end: the operator in this process, KubeSim with its simulated kubelet.
@Suite("OpsRequest controller against KubeSim")
struct OpsRequestControllerTests {
    func request(_ name: String, cluster: String, _ type: OpsType, edit: (inout OpsRequestSpec) -> Void = { _ in }) -> OpsRequest {
        var spec = OpsRequestSpec(clusterRef: cluster, type: type)
        edit(&spec)
        return OpsRequest(metadata: .init(name: name, namespace: "default"), spec: spec)
    }

    func waitForOps(_ name: String, _ phase: OpsPhase, client: KubeClient) async throws -> OpsRequest {
        do {
            return try await eventually("OpsRequest \(name) to be \(phase.rawValue)") {
                let ops = try await client.get(OpsRequest.self, name: name, namespace: "default")
                return ops.status?.phase == phase ? ops : nil
            }
        } catch {
            throw TestSetupError("\(error); \(await describeOps(name, client: client))")
        }
    }

    /// What a request that never arrived saw: its status, its Cluster's, the workload's and the claims'.
    func describeOps(_ name: String, client: KubeClient) async -> String {
        guard let ops = try? await client.get(OpsRequest.self, name: name, namespace: "default") else { return "the request is gone" }
        var lines = ["request: \(String(describing: ops.status))"]
        let cluster = try? await client.get(Cluster.self, name: ops.spec.clusterRef, namespace: "default")
        lines.append("cluster generation \(cluster?.metadata?.generation ?? -1): \(String(describing: cluster?.status))")
        for kind in [AppsV1.StatefulSet.descriptor, CoreV1.Pod.descriptor, CoreV1.PersistentVolumeClaim.descriptor] {
            let list = try? await client.list(kind, namespace: "default")
            for item in list?.items ?? [] {
                lines.append(
                    "\(kind.kind) \(item["metadata"]?["name"]?.stringValue ?? ""): metadata.generation \(String(describing: item["metadata"]?["generation"])) status \(String(describing: item["status"]))"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A running 2-replica Qdrant cluster and the operator, for each test. Its pods are peers of a Qdrant double (with
    /// no collections), so a scale-in, such as a cancelled scale-out's, asks a Qdrant as it would in a cluster.
    func withRunningCluster(
        _ name: String, replicas: Int32 = 2, _ body: (KubeClient, KubeSimServer) async throws -> Void
    ) async throws {
        let qdrant = try await QdrantServer.start(cluster: QdrantClusterSimulation())
        let port = qdrant.port
        do {
            try await withKubeSim(workloads: true) { server, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: PodAddressing { _, _ in ("127.0.0.1", port) })
                try await createRunningQdrantCluster(name, replicas: replicas, client: client, peersOf: qdrant)
                try await body(client, server)
                await running.stop()
            }
        } catch {
            try? await qdrant.shutdown()
            throw error
        }
        try await qdrant.shutdown()
    }

    @Test func scalingResourcesRestartAndUpgradeSucceedWithProgress() async throws {
        try await withRunningCluster("day2") { client, _ in
            _ = try await client.create(
                request("out", cluster: "day2", .horizontalScaling) {
                    $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 3)]
                })
            let out = try await waitForOps("out", .succeed, client: client)
            #expect(out.status?.progress == "3/3")
            #expect(out.status?.lastConfiguration?.components?["qdrant"]?.replicas == 2)
            #expect(try await client.get(AppsV1.StatefulSet.self, name: "day2-qdrant", namespace: "default").spec?.replicas == 3)

            _ = try await client.create(
                request("bigger", cluster: "day2", .verticalScaling) {
                    $0.verticalScaling = [.init(componentName: "qdrant", requests: ["cpu": "1"], limits: ["cpu": "4"])]
                })
            _ = try await waitForOps("bigger", .succeed, client: client)
            let resources = try await client.get(AppsV1.StatefulSet.self, name: "day2-qdrant", namespace: "default")
                .spec?.template.spec?.containers.first?.resources
            #expect(resources?.requests?["cpu"] == Quantity("1") && resources?.limits?["cpu"] == Quantity("4"))

            _ = try await client.create(request("bounce", cluster: "day2", .restart) { $0.restart = [.init(componentName: "qdrant")] })
            let bounce = try await waitForOps("bounce", .succeed, client: client)
            let template = try await client.get(AppsV1.StatefulSet.self, name: "day2-qdrant", namespace: "default").spec?.template
            #expect(template?.metadata?.annotations?[ClusterObjectsBuilder.podRestartAnnotation] == bounce.status?.startTimestamp?.description)

            var next = try Addon.qdrant.objects().version
            next.metadata?.name = "qdrant-1.13.0"
            next.spec.componentVersions[0].versionsContext.containers?[0].image = "docker.io/qdrant/qdrant:v1.13.0"
            _ = try await client.create(next)
            _ = try await client.create(request("newer", cluster: "day2", .upgrade) { $0.upgrade = .init(clusterVersionRef: "qdrant-1.13.0") })
            _ = try await waitForOps("newer", .succeed, client: client)
            let image = try await client.get(AppsV1.StatefulSet.self, name: "day2-qdrant", namespace: "default")
                .spec?.template.spec?.containers.first { $0.name == "qdrant" }?.image
            #expect(image == "docker.io/qdrant/qdrant:v1.13.0")
            // The request is marked done first and the Cluster's lock released in the next write.
            _ = try await eventually("the lock on day2 to be released") { () -> Bool? in
                let cluster = try await client.get(Cluster.self, name: "day2", namespace: "default")
                return cluster.metadata?.annotations?[OpsRequestPlan.lockAnnotation] == nil ? true : nil
            }
        }
    }

    @Test func stopKeepsVolumesAndStartBringsTheReplicasBack() async throws {
        try await withRunningCluster("pause") { client, _ in
            _ = try await client.create(request("stop", cluster: "pause", .stop))
            let stop = try await waitForOps("stop", .succeed, client: client)
            #expect(stop.status?.progress == "2/2")
            #expect(try await client.get(Cluster.self, name: "pause", namespace: "default").status?.phase == .stopped)
            #expect(try await objectNames(CoreV1.Pod.descriptor, cluster: "pause", client: client) == [])
            #expect(try await objectNames(CoreV1.PersistentVolumeClaim.descriptor, cluster: "pause", client: client).count == 2)
            _ = try await client.create(request("start", cluster: "pause", .start))
            _ = try await waitForOps("start", .succeed, client: client)
            #expect(try await client.get(AppsV1.StatefulSet.self, name: "pause-qdrant", namespace: "default").spec?.replicas == 2)
        }
    }

    @Test func exposeShowsTheLoadBalancerAddressAndVolumesGrow() async throws {
        try await withRunningCluster("public") { client, _ in
            _ = try await client.create(try decodeYAML("examples/opsrequest-expose.yaml", as: OpsRequest.self).renamed("expose", cluster: "public"))
            let exposed = try await waitForOps("expose", .succeed, client: client)
            let message = Conditions.find(exposed.status?.conditions, type: OpsRequestReconciler.succeedCondition)?.message ?? ""
            #expect(message.contains("public-qdrant-vpc: "), "\(message)")
            let service = try await client.get(CoreV1.Service.self, name: "public-qdrant-vpc", namespace: "default")
            #expect(service.spec?.type == "LoadBalancer")
            #expect(service.metadata?.annotations?["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal")

            _ = try await client.create(
                request("grow", cluster: "public", .volumeExpansion) {
                    $0.volumeExpansion = [.init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "40Gi")])]
                })
            _ = try await waitForOps("grow", .succeed, client: client)
            for ordinal in 0..<2 {
                let claim = try await client.get(CoreV1.PersistentVolumeClaim.self, name: "data-public-qdrant-\(ordinal)", namespace: "default")
                #expect(claim.status?.capacity?["storage"] == Quantity("40Gi"))
            }
            let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "public-qdrant", namespace: "default")
            #expect(statefulSet.spec?.volumeClaimTemplates?.first?.spec?.resources?.requests?["storage"] == Quantity("40Gi"))
            #expect(try await objectNames(CoreV1.Pod.descriptor, cluster: "public", client: client).count == 2)
        }
    }

    @Test func aBadRequestFailsWithTheReasonAndChangesNothing() async throws {
        try await withRunningCluster("strict") { client, _ in
            let before = try await client.get(Cluster.self, name: "strict", namespace: "default")
            _ = try await client.create(
                request("shrink", cluster: "strict", .volumeExpansion) {
                    $0.volumeExpansion = [.init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "1Gi")])]
                })
            let failed = try await waitForOps("shrink", .failed, client: client)
            let condition = try #require(Conditions.find(failed.status?.conditions, type: OpsRequestReconciler.failedCondition))
            #expect(condition.reason == "ValidateFailed")
            #expect(condition.message.contains("spec.volumeExpansion[0].volumeClaimTemplates[0].storage"), "\(condition.message)")
            _ = try await client.create(request("nowhere", cluster: "missing", .restart) { $0.restart = [.init(componentName: "qdrant")] })
            let missing = try await waitForOps("nowhere", .failed, client: client)
            #expect(
                Conditions.find(missing.status?.conditions, type: OpsRequestReconciler.failedCondition)?.message.contains("Cluster \"missing\" not found")
                    == true)
            let after = try await client.get(Cluster.self, name: "strict", namespace: "default")
            #expect(after.spec == before.spec)
            #expect(after.metadata?.annotations?[OpsRequestPlan.lockAnnotation] == nil)
        }
    }

    @Test func aSecondRequestWaitsAndACancelledScalingIsRestored() async throws {
        try await withRunningCluster("queue", replicas: 1) { client, server in
            // New pods do not become ready, so the scale-out is still going when the test cancels it.
            try await server.setPodReadyDelay(.seconds(3600))
            _ = try await client.create(
                request("big", cluster: "queue", .horizontalScaling) {
                    $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 4)]
                })
            // Made a moment later: requests made within the same second of creationTimestamp go by name.
            _ = try await waitForOps("big", .running, client: client)
            _ = try await client.create(
                request("after", cluster: "queue", .verticalScaling) {
                    $0.verticalScaling = [.init(componentName: "qdrant", limits: ["memory": "8Gi"])]
                })
            let waiting = try await waitForOps("after", .pending, client: client)
            #expect(Conditions.find(waiting.status?.conditions, type: OpsRequestReconciler.progressingCondition)?.message.contains("\"big\"") == true)
            _ = try await client.patch(OpsRequest.self, name: "big", namespace: "default", patch: .merge(["spec": ["cancel": true]]))
            _ = try await waitForOps("big", .cancelled, client: client)
            #expect(try await client.get(Cluster.self, name: "queue", namespace: "default").spec.componentSpecs[0].replicas == 1)
            // Then the waiting one runs, and restarts the pod with its new limits.
            try await server.setPodReadyDelay(WorkloadSimulation().podReadyDelay)
            _ = try await waitForOps("after", .succeed, client: client)
        }
    }

    @Test func aNewOperatorFinishesARequestTheStoppedOneStarted() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let first = RunningOperator(client: client)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "relay")
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, "relay", client: client)
            _ = try await client.create(
                request("relay-out", cluster: "relay", .horizontalScaling) {
                    $0.horizontalScaling = [.init(componentName: "qdrant", replicas: 3)]
                })
            _ = try await eventually("the request to start") {
                let phase = try await client.get(OpsRequest.self, name: "relay-out", namespace: "default").status?.phase
                return phase == .creating || phase == .running ? true : nil
            }
            await first.stop()
            let second = RunningOperator(client: client)
            let done = try await waitForOps("relay-out", .succeed, client: client)
            #expect(done.status?.progress == "3/3")
            await second.stop()
        }
    }

    @Test func aFinishedRequestIsDeletedAfterItsTTL() async throws {
        try await withRunningCluster("brief", replicas: 1) { client, _ in
            _ = try await client.create(
                request("short-lived", cluster: "brief", .restart) {
                    $0.restart = [.init(componentName: "qdrant")]
                    $0.ttlSecondsAfterSucceed = 1
                })
            _ = try await eventually("the request to be deleted") { () -> Bool? in
                do {
                    _ = try await client.get(OpsRequest.self, name: "short-lived", namespace: "default")
                    return nil
                } catch let error as KubeAPIError where error.isNotFound {
                    return true
                }
            }
        }
    }
}

extension OpsRequest {
    func renamed(_ name: String, cluster: String) -> OpsRequest {
        var copy = self
        copy.metadata?.name = name
        copy.metadata?.namespace = "default"
        copy.spec.clusterRef = cluster
        return copy
    }
}
