import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A field the operator stops wanting leaves the live object, though the object still contains everything the
/// operator wants (so a containment check alone would see no drift).
@Suite("Fields the operator no longer wants are removed")
struct FieldRemovalTests {
    static let sourceRanges = "service.beta.kubernetes.io/load-balancer-source-ranges"

    @Test func aRemovedAnnotationLimitAndSourceRangeLeaveTheirObjects() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "trimmed")
            cluster.spec.componentSpecs[0].replicas = 1
            cluster.spec.componentSpecs[0].services = [
                ClusterComponentService(name: "extra", serviceType: .clusterIP, annotations: ["kept": "1", "dropped": "2"])
            ]
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, "trimmed", client: client)
            try await client.edit(Cluster.self, name: "trimmed", namespace: "default") {
                $0.spec.componentSpecs[0].services?[0].annotations = ["kept": "1"]
                $0.spec.componentSpecs[0].resources?.limits?["memory"] = nil
            }
            let extra = try await eventually("the dropped annotation to leave the Service") {
                try await Self.annotations("trimmed-qdrant-extra", client: client).flatMap { $0["dropped"] == nil ? $0 : nil }
            }
            #expect(extra["kept"] == "1")
            let limits = try await eventually("the dropped memory limit to leave the StatefulSet") {
                let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "trimmed-qdrant", namespace: "default")
                let limits = statefulSet.spec?.template.spec?.containers.first?.resources?.limits
                return limits?["memory"] == nil ? limits : nil
            }
            #expect(limits["cpu"] == Quantity("2"))

            // As `kbctl cluster expose --source-ranges X`, then the same without ranges.
            try await expose("trimmed", name: "with-ranges", sourceRanges: "10.0.0.0/8", client: client)
            #expect(try await Self.annotations("trimmed-qdrant-vpc", client: client)?[Self.sourceRanges] == "10.0.0.0/8")
            try await expose("trimmed", name: "without-ranges", sourceRanges: nil, client: client)
            let vpc = try await eventually("the source ranges to leave the Service") {
                try await Self.annotations("trimmed-qdrant-vpc", client: client).flatMap { $0[Self.sourceRanges] == nil ? $0 : nil }
            }
            #expect(vpc["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal")
            await running.stop()
        }
    }

    /// Containment already saw a list with an item fewer (the lengths differ); this guards that the apply that
    /// follows removes the item.
    @Test func aPortEnvVarAndVolumeDroppedFromTheDefinitionLeaveTheWorkloadAndService() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "shrunk")
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, "shrunk", client: client)

            try await client.edit(ClusterDefinition.self, name: "qdrant") { Self.addExtras(to: &$0) }
            _ = try await eventually("the extras to reach the StatefulSet and Service") {
                try await Self.extrasPresent(cluster: "shrunk", client: client) == [true, true, true, true] ? true : nil
            }
            try await client.edit(ClusterDefinition.self, name: "qdrant") { Self.removeExtras(from: &$0) }
            _ = try await eventually("the extras to leave the StatefulSet and Service") {
                try await Self.extrasPresent(cluster: "shrunk", client: client) == [false, false, false, false] ? true : nil
            }
            // What stays is untouched: the addon's own port and variables.
            let service = try await client.get(CoreV1.Service.self, name: "shrunk-qdrant", namespace: "default")
            #expect(service.spec?.ports?.contains { $0.port == 6333 } == true)
            await running.stop()
        }
    }

    static let extraPort: Int32 = 7000

    static func addExtras(to definition: inout ClusterDefinition) {
        var component = definition.spec.componentDefs[0]
        component.service?.ports?.append(CoreV1.ServicePort(name: "extra", port: extraPort, protocol: "TCP"))
        component.podSpec?.volumes?.append(CoreV1.Volume(emptyDir: CoreV1.EmptyDirVolumeSource(), name: "extra"))
        component.podSpec?.containers[0].env?.append(CoreV1.EnvVar(name: "EXTRA", value: "1"))
        component.podSpec?.containers[0].ports?.append(CoreV1.ContainerPort(containerPort: extraPort, name: "extra", protocol: "TCP"))
        definition.spec.componentDefs[0] = component
    }

    static func removeExtras(from definition: inout ClusterDefinition) {
        var component = definition.spec.componentDefs[0]
        component.service?.ports?.removeAll { $0.port == extraPort }
        component.podSpec?.volumes?.removeAll { $0.name == "extra" }
        component.podSpec?.containers[0].env?.removeAll { $0.name == "EXTRA" }
        component.podSpec?.containers[0].ports?.removeAll { $0.containerPort == extraPort }
        definition.spec.componentDefs[0] = component
    }

    /// Whether the live objects hold the extra service port, volume, env var and container port.
    static func extrasPresent(cluster: String, client: KubeClient) async throws -> [Bool] {
        let service = try await client.get(CoreV1.Service.self, name: "\(cluster)-qdrant", namespace: "default")
        let statefulSet = try await client.get(AppsV1.StatefulSet.self, name: "\(cluster)-qdrant", namespace: "default")
        let podSpec = statefulSet.spec?.template.spec
        let container = podSpec?.containers.first
        return [
            service.spec?.ports?.contains { $0.port == extraPort } == true,
            podSpec?.volumes?.contains { $0.name == "extra" } == true,
            container?.env?.contains { $0.name == "EXTRA" } == true,
            container?.ports?.contains { $0.containerPort == extraPort } == true,
        ]
    }

    static func annotations(_ service: String, client: KubeClient) async throws -> [String: String]? {
        try await client.get(CoreV1.Service.self, name: service, namespace: "default").metadata?.annotations
    }

    /// An Expose OpsRequest as `kbctl cluster expose --type vpc --enable true [--source-ranges]` makes it.
    func expose(_ cluster: String, name: String, sourceRanges: String?, client: KubeClient) async throws {
        var request = try decodeYAML("examples/opsrequest-expose.yaml", as: OpsRequest.self)
        request.metadata?.name = name
        request.spec.clusterRef = cluster
        request.spec.expose?[0].services[0].annotations?[Self.sourceRanges] = sourceRanges
        _ = try await client.create(request)
        _ = try await eventually("OpsRequest \(name) to succeed") {
            try await client.get(OpsRequest.self, name: name, namespace: "default").status?.phase == .succeed ? true : nil
        }
    }
}
