import Dispatch
import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

#if canImport(Glibc)
import Glibc
#endif

private let postgres = processPodPostgres

/// A node of the process runtime is lost under a 3-replica pgvector Cluster's primary: the operator promotes the
/// standby that received the most WAL (on another node), and once the lost pod is force-deleted, as an
/// administrator does after a node loss, the StatefulSet makes it again on a node that is up, where it rejoins as a
/// standby of the new primary.
@Suite(
    .enabled(if: canRunPgvectorProcessPods, pgvectorProcessPodsSkipReason))
struct NodeLossOnProcessPodsTests {
    @Test(.timeLimit(.minutes(15)))
    func aStandbyOnAnotherNodeIsPromotedAndTheLostPodComesBackElsewhereAsAStandby() async throws {
        let postgres = try #require(postgres)
        var configuration = KubeSimConfiguration()
        var workloads = WorkloadSimulation()
        workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: ImageMap([postgres])))
        configuration.workloads = workloads
        let network = try await withKubeSim(configuration: configuration) { server, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client, podAddressing: .podIP)
            do {
                try await loseThePrimarysNode(server: server, client: client, psql: postgres.binDirectory + "/psql")
            } catch {
                await running.stop()
                throw error
            }
            await running.stop()
            return try #require(server.podNetwork)
        }
        // The lost node's processes were killed, and the server removed everything else when it stopped.
        expectNoProcessPodLeftovers(bridge: network.bridge, directory: network.directory)
    }

    private func loseThePrimarysNode(server: KubeSimServer, client: KubeClient, psql: String) async throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "lost")
        cluster.spec.componentSpecs[0].replicas = 3
        _ = try await client.create(cluster)
        _ = try await waitForPhase(.running, "lost", client: client)
        let secret = try await client.get(CoreV1.Secret.self, name: "lost-conn-credential", namespace: "default")
        let decode = { (key: String) in (secret.data?[key]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let (user, password) = (decode("username"), decode("password"))
        let readWrite = try #require(try await client.get(CoreV1.Service.self, name: "lost-postgresql", namespace: "default").spec?.clusterIP)
        _ = try await eventually("the first row through the read-write Service") { () -> Bool? in
            _ = try? await sql(
                psql, host: readWrite, user: user, password: password,
                "create table if not exists items (id int primary key); insert into items values (1) on conflict do nothing")
            return try? await sql(psql, host: readWrite, user: user, password: password, "select count(*) from items") == "1" ? true : nil
        }
        let primary = try await eventually("the primary recorded in the status") { () -> String? in
            try await client.get(Cluster.self, name: "lost", namespace: "default").status?.components?["postgresql"]?.primary
        }
        let lostPod = try await client.get(CoreV1.Pod.self, name: primary, namespace: "default")
        let lostNode = try #require(lostPod.spec?.nodeName)
        let pods = try await client.list(CoreV1.Pod.self, namespace: "default").items
        #expect(Set(pods.compactMap { $0.spec?.nodeName }).count == 3, "the three replicas are on three nodes")

        try await server.stopNode(lostNode)
        let nodes = ResourceDescriptor(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false)
        let node = try await client.get(nodes, name: lostNode)
        let readyCondition = node["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
        #expect(readyCondition?["status"]?.stringValue == "Unknown")
        let taints = node["spec"]?["taints"]?.arrayValue ?? []
        #expect(taints.contains { $0["key"]?.stringValue == "node.kubernetes.io/unreachable" && $0["effect"]?.stringValue == "NoExecute" })

        // The operator promotes a standby on another node; writes go through the read-write Service to it.
        let promoted = try await eventually("a standby promoted in the lost primary's place", timeout: .seconds(300)) { () -> String? in
            let recorded = try await client.get(Cluster.self, name: "lost", namespace: "default").status?.components?["postgresql"]?.primary
            return recorded != primary ? recorded : nil
        }
        let promotedPod = try await client.get(CoreV1.Pod.self, name: promoted, namespace: "default")
        #expect(promotedPod.spec?.nodeName != lostNode)
        _ = try await eventually("a write through the read-write Service after the failover", timeout: .seconds(300)) { () -> Bool? in
            _ = try? await sql(psql, host: readWrite, user: user, password: password, "insert into items values (2) on conflict do nothing")
            return try? await sql(psql, host: readWrite, user: user, password: password, "select pg_is_in_recovery() || ' ' || count(*) from items")
                == "false 2"
                ? true : nil
        }
        let lost = try await client.get(CoreV1.Pod.self, name: primary, namespace: "default")
        #expect(lost.status?.conditions?.first { $0.type == "Ready" }?.status == "False")

        // No kubelet is left to stop the lost pod: it is replaced once force-deleted, on a node that is up.
        try await client.delete(CoreV1.Pod.self, name: primary, namespace: "default", gracePeriodSeconds: 0)
        let back = try await eventually("\(primary) back on another node as a ready standby", timeout: .seconds(300)) { () -> CoreV1.Pod? in
            let pod = try await client.get(CoreV1.Pod.self, name: primary, namespace: "default")
            let ready = pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
            return pod.metadata?.uid != lostPod.metadata?.uid && ready && pod.metadata?.labels?["apps.vectorblocks.io/role"] == "secondary" ? pod : nil
        }
        #expect(back.spec?.nodeName != lostNode)
        let address = try #require(back.status?.podIP)
        let standby = try await eventually("the row written after the failover on the pod that came back") { () -> String? in
            let row = try? await sql(psql, host: address, user: user, password: password, "select pg_is_in_recovery() || ' ' || count(*) from items")
            return row == "true 2" ? row : nil
        }
        #expect(standby == "true 2")
    }
}

/// `runPsql` on a Dispatch thread: psql's wait must not hold one of the cooperative pool's two threads.
private func sql(_ psql: String, host: String, user: String, password: String, _ statement: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try runPsql(psql, host: host, user: user, password: password, sql: statement) })
        }
    }
}
