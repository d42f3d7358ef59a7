import Foundation
import KubeKit
import KubeSim
import MetricsTestKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// The operator with exactly the permissions deploy/operator.yaml grants it, against KubeSim enforcing RBAC: the
/// core scenarios finish, and the API server refuses it nothing.
@Suite("The shipped RBAC is enough")
struct ShippedPermissionsTests {
    @Test func theOperatorRunsAClusterThroughItsLifeWithNoForbiddenRequest() async throws {
        var configuration = KubeSimConfiguration()
        configuration.rbac = true
        configuration.tokens = ["admin-token": "admin"]
        configuration.workloads = WorkloadSimulation()
        try await withKubeSim(configuration: configuration, token: "admin-token") { server, admin in
            try await installOperatorPrerequisites(admin)
            let package = OperatorPackage().objects()
            for object in [
                try JSONValue(encoding: package.serviceAccount), try JSONValue(encoding: package.clusterRole),
                try JSONValue(encoding: package.clusterRoleBinding), try JSONValue(encoding: package.role),
                try JSONValue(encoding: package.roleBinding),
            ] {
                let kind = object["kind"]?.stringValue ?? ""
                let descriptor: ResourceDescriptor =
                    switch kind {
                    case "ServiceAccount": CoreV1.ServiceAccount.descriptor
                    case "ClusterRole": RbacV1.ClusterRole.descriptor
                    case "ClusterRoleBinding": RbacV1.ClusterRoleBinding.descriptor
                    case "Role": RbacV1.Role.descriptor
                    default: RbacV1.RoleBinding.descriptor
                    }
                _ = try await admin.create(descriptor, object, namespace: descriptor.namespaced ? OperatorPackage.defaultNamespace : nil)
            }
            let account = try #require(package.serviceAccount.metadata?.name)
            let token = try await server.serviceAccountToken(namespace: OperatorPackage.defaultNamespace, name: account)
            let metrics = TestMetrics()
            let operatorClient = try KubeClient(
                configuration: KubeClientConfiguration(
                    server: server.baseURL, namespace: OperatorPackage.defaultNamespace, credentials: .bearerToken(token),
                    metricsFactory: metrics))
            // A token the shipped role does not cover is refused: the check is real.
            await #expect(throws: KubeAPIError.self) {
                _ = try await operatorClient.list(RbacV1.ClusterRole.self)
            }
            let forbiddenBefore = Self.forbidden(metrics)
            #expect(forbiddenBefore == 1)

            let running = RunningOperator(
                client: operatorClient,
                leaderElection: LeaderElector.Configuration(leaseName: "vectorblocks-operator", namespace: OperatorPackage.defaultNamespace),
                restartsWhenLeadershipIsLost: true)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "rbac")
            cluster.spec.componentSpecs[0].replicas = 2
            _ = try await admin.create(cluster)
            _ = try await waitForPhase(.running, "rbac", client: admin)
            _ = try await admin.create(
                OpsRequest(
                    metadata: .init(name: "rbac-out", namespace: "default"),
                    spec: OpsRequestSpec(clusterRef: "rbac", type: .horizontalScaling, horizontalScaling: [.init(componentName: "qdrant", replicas: 3)])))
            _ = try await eventually("the scale-out") {
                try await admin.get(OpsRequest.self, name: "rbac-out", namespace: "default").status?.phase == .succeed ? true : nil
            }
            try await admin.delete(Cluster.self, name: "rbac", namespace: "default")
            _ = try await eventually("the cluster to go") { try await admin.list(Cluster.self, namespace: "default").items.isEmpty ? true : nil }
            await running.stop()
            #expect(Self.forbidden(metrics) == forbiddenBefore, "the operator was refused something its role should grant")
            try await operatorClient.shutdown()
        }
    }

    static func forbidden(_ metrics: TestMetrics) -> Int64 {
        metrics.counters.filter { counter in
            counter.label == "rest_client_requests_total" && counter.dimensions.contains { $0.0 == "code" && $0.1 == "403" }
        }.reduce(0) { $0 + $1.totalValue }
    }
}
