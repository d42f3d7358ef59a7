import Foundation
import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// Qdrant scale-in end to end: the operator in this process, KubeSim's simulated pods, and the Qdrant double standing
/// for the peers those pods run, holding a collection whose shards have two replicas each.
@Suite("Qdrant scale-in against KubeSim and the Qdrant double")
struct QdrantScaleInTests {
    static let apiKey = "scale-in-test-key"
    static let points = 120

    struct Setup {
        var client: KubeClient
        var qdrant: QdrantServer
        var addressing: PodAddressing
    }

    /// A running Qdrant cluster of `replicas` peers, each pod a peer of the double, the collection `docs` with six
    /// shards of replication factor 2, and its points.
    func withQdrantCluster(
        _ name: String, replicas: Int32, transferDuration: Duration, _ body: (Setup, RunningOperator) async throws -> RunningOperator
    ) async throws {
        let qdrant = try await QdrantServer.start(apiKey: Self.apiKey, cluster: QdrantClusterSimulation(transferDuration: transferDuration))
        let port = qdrant.port
        // Every pod answers for the same consensus, as any Qdrant peer does.
        let addressing = PodAddressing { _, _ in ("127.0.0.1", port) }
        do {
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                // The credential is brought along, so the operator sends the key the double was started with.
                _ = try await client.create(
                    CoreV1.Secret(
                        metadata: .init(
                            labels: [
                                ClusterNames.managedByLabel: ClusterNames.managedBy, ClusterNames.instanceLabel: name,
                            ], name: "\(name)-conn-credential", namespace: "default"),
                        stringData: ["apiKey": Self.apiKey]))
                let running = RunningOperator(client: client, podAddressing: addressing)
                try await createRunningQdrantCluster(name, replicas: replicas, client: client, peersOf: qdrant)
                let created = try await qdrant.send(
                    .PUT, "/collections/docs", json: #"{"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 6, "replication_factor": 2}"#)
                #expect(created.status == 200, "\(created.body)")
                let points = (0..<Self.points).map { #"{"id": \#($0), "vector": [1, \#($0 % 7), 0.5, 2], "payload": {"n": \#($0)}}"# }
                let upserted = try await qdrant.send(.PUT, "/collections/docs/points", json: #"{"points": [\#(points.joined(separator: ","))]}"#)
                #expect(upserted.status == 200, "\(upserted.body)")
                let last = try await body(Setup(client: client, qdrant: qdrant, addressing: addressing), running)
                await last.stop()
            }
        } catch {
            try? await qdrant.shutdown()
            throw error
        }
        try await qdrant.shutdown()
    }

    func scale(_ name: String, cluster: String, to replicas: Int32, client: KubeClient) async throws {
        var spec = OpsRequestSpec(clusterRef: cluster, type: .horizontalScaling)
        spec.horizontalScaling = [.init(componentName: "qdrant", replicas: replicas)]
        _ = try await client.create(OpsRequest(metadata: .init(name: name, namespace: "default"), spec: spec))
    }

    func waitForOps(_ name: String, _ phase: OpsPhase, client: KubeClient) async throws -> OpsRequest {
        try await eventually("OpsRequest \(name) to be \(phase.rawValue)") {
            let ops = try await client.get(OpsRequest.self, name: name, namespace: "default")
            return ops.status?.phase == phase ? ops : nil
        }
    }

    @Test func fiveToThreeWithReplicationFactorTwoLosesNoShardAcrossAnOperatorRestart() async throws {
        try await withQdrantCluster("shrink", replicas: 5, transferDuration: .seconds(1)) { setup, first in
            let client = setup.client
            let leaving = Set(await setup.qdrant.peers().filter { $0.value.contains("shrink-qdrant-3.") || $0.value.contains("shrink-qdrant-4.") }.keys)
            #expect(leaving.count == 2)
            try await scale("in", cluster: "shrink", to: 3, client: client)

            // The operator stops while shards are on their way; a new one carries on from what Qdrant reports.
            _ = try await eventually("a shard transfer to start") { () -> Bool? in
                let info = try await setup.qdrant.send(.GET, "/collections/docs/cluster")
                return info.body.contains(#""shard_transfers":[{"#) ? true : nil
            }
            await first.stop()
            let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "shrink-qdrant", namespace: "default")
            #expect(statefulSet.spec?.replicas == 5, "the StatefulSet shrank before the shards left")
            let second = RunningOperator(client: client, podAddressing: setup.addressing)

            let done: OpsRequest
            do {
                done = try await waitForOps("in", .succeed, client: client)
            } catch {
                let cluster = try await client.get(Cluster.self, name: "shrink", namespace: "default")
                let ops = try await client.get(OpsRequest.self, name: "in", namespace: "default")
                let layout = try await setup.qdrant.send(.GET, "/collections/docs/cluster")
                Issue.record(
                    "cluster: \(cluster.status?.conditions ?? []) \(cluster.status?.components ?? [:]); ops: \(ops.status?.conditions ?? []); peers: \(await setup.qdrant.peers()); layout: \(layout.body)"
                )
                throw error
            }
            #expect(done.status?.progress == "3/3")
            let peers = await setup.qdrant.peers()
            #expect(peers.count == 3 && leaving.isDisjoint(with: peers.keys), "\(peers)")
            let replicas = try #require(await setup.qdrant.activeReplicas(of: "docs"))
            #expect(replicas.count == 6)
            for (shard, holders) in replicas {
                #expect(holders.count == 2 && holders.isSubset(of: peers.keys), "shard \(shard) is on \(holders)")
            }
            #expect(await setup.qdrant.points(in: "docs")?.count == Self.points)
            #expect(try await client.get(AppsV1.StatefulSet.self, name: "shrink-qdrant", namespace: "default").spec?.replicas == 3)
            // The volumes of the removed peers hold stale consensus state; they go.
            _ = try await eventually("the volumes of ordinals 3 and 4 to be deleted") { () -> Bool? in
                let claims = try await objectNames(CoreV1.PersistentVolumeClaim.descriptor, cluster: "shrink", client: client)
                return claims == ["data-shrink-qdrant-0", "data-shrink-qdrant-1", "data-shrink-qdrant-2"] ? true : nil
            }
            let cluster = try await client.get(Cluster.self, name: "shrink", namespace: "default")
            #expect(Conditions.find(cluster.status?.conditions, type: ClusterStatus.ConditionType.scaleIn.rawValue)?.status == "True")
            return second
        }
    }

    @Test func threeToOneWithReplicationFactorTwoIsRefusedAndNothingMoves() async throws {
        try await withQdrantCluster("keep", replicas: 3, transferDuration: .milliseconds(200)) { setup, running in
            let client = setup.client
            let before = await setup.qdrant.activeReplicas(of: "docs")
            try await scale("too-far", cluster: "keep", to: 1, client: client)
            let failed = try await waitForOps("too-far", .failed, client: client)
            let message = Conditions.find(failed.status?.conditions, type: OpsRequestReconciler.failedCondition)?.message ?? ""
            #expect(message.contains("spec.horizontalScaling[0].replicas") && message.contains("replication_factor 2"), "\(message)")
            #expect(try await client.get(Cluster.self, name: "keep", namespace: "default").spec.componentSpecs[0].replicas == 3)

            // Edited on the Cluster itself, the shrink is held with a condition and an Event, and nothing moves.
            _ = try await client.patch(Cluster.self, name: "keep", namespace: "default", patch: .json([.replace("/spec/componentSpecs/0/replicas", 1)]))
            let held = try await eventually("the scale-in to be refused") { () -> Cluster? in
                let cluster = try await client.get(Cluster.self, name: "keep", namespace: "default")
                let condition = Conditions.find(cluster.status?.conditions, type: ClusterStatus.ConditionType.scaleIn.rawValue)
                return condition?.reason == ClusterStatusCalculator.scaleInRefused ? cluster : nil
            }
            #expect(held.status?.message?.contains("replication_factor 2") == true)
            _ = try await eventually("a ScaleInRefused event") {
                try await client.list(CoreV1.Event.self, namespace: "default").items.first { $0.reason == ClusterStatusCalculator.scaleInRefused }
            }
            #expect(try await client.get(AppsV1.StatefulSet.self, name: "keep-qdrant", namespace: "default").spec?.replicas == 3)
            #expect(await setup.qdrant.peers().count == 3)
            #expect(await setup.qdrant.activeReplicas(of: "docs") == before)
            #expect(await setup.qdrant.points(in: "docs")?.count == Self.points)
            #expect(try await objectNames(CoreV1.Pod.descriptor, cluster: "keep", client: client).count == 3)
            return running
        }
    }
}
