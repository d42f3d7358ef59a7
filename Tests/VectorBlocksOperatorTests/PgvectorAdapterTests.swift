import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The pgvector adapter against real PostgreSQL: a primary and a hot standby streaming from it, standing for the
/// pods of a KubeSim cluster. Pod 0 is mapped onto the standby and pod 1 onto the primary, so the roles the operator
/// labels can only have come from the servers.
@Suite("pgvector roles and extension against a real primary and standby")
struct PgvectorAdapterTests {
    @Test func rolesComeFromTheServersAndTheServicesFollowThem() async throws {
        let primary = try await PostgresServer.start()
        try await primary.psql("DROP EXTENSION IF EXISTS vector")
        let standby = try await PostgresServer.startStandby(of: primary)
        #expect(try await standby.psql("SELECT pg_is_in_recovery()") == "t")
        let ports = [0: standby.port, 1: primary.port]
        let addressing = PodAddressing { pod, _ in
            EngineComponent.ordinal(of: pod).flatMap { ports[$0] }.map { ("127.0.0.1", $0) }
        }
        do {
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                let running = RunningOperator(client: client, podAddressing: addressing)
                _ = try await client.create(try exampleCluster("pgvector-cluster.yaml", name: "roles"))
                _ = try await waitForPhase(.running, "roles", client: client)

                let labelled = try await eventually("the pods' role labels") { () -> [String: String]? in
                    let pods = try await client.list(
                        CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=roles")
                    ).items
                    let roles = Dictionary(
                        uniqueKeysWithValues: pods.compactMap { pod in
                            pod.metadata.flatMap { metadata in metadata.labels?[ClusterNames.roleLabel].map { (metadata.name ?? "", $0) } }
                        })
                    return roles.count == 2 ? roles : nil
                }
                #expect(labelled == ["roles-postgresql-0": "secondary", "roles-postgresql-1": "primary"])

                let podIPs = Dictionary(
                    uniqueKeysWithValues: try await client.list(CoreV1.Pod.self, namespace: "default").items.compactMap { pod in
                        pod.metadata?.name.flatMap { name in pod.status?.podIP.map { (name, $0) } }
                    })
                for (service, pod) in [("roles-postgresql", "roles-postgresql-1"), ("roles-postgresql-ro", "roles-postgresql-0")] {
                    let addresses = try await eventually("the endpoints of \(service)") { () -> [String]? in
                        let endpoints = try await client.get(CoreV1.Endpoints.self, name: service, namespace: "default")
                        let addresses = (endpoints.subsets ?? []).flatMap { $0.addresses ?? [] }.map(\.ip)
                        return addresses.count == 1 ? addresses : nil
                    }
                    #expect(addresses == [podIPs[pod] ?? "none"], "\(service) selects \(addresses)")
                }

                // The extension is made on the primary and reaches the standby by replication.
                _ = try await eventually("the vector extension on the primary") { () -> Bool? in
                    try await primary.psql("SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == "1" ? true : nil
                }
                _ = try await eventually("the vector extension on the standby") { () -> Bool? in
                    try await standby.psql("SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == "1" ? true : nil
                }
                await running.stop()
            }
        } catch {
            try? await standby.stop()
            try? await primary.stop()
            throw error
        }
        try await standby.stop()
        try await primary.stop()
    }
}
