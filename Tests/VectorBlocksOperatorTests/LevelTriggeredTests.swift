import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A Cluster whose definition, version and templates arrive after it proceeds by itself, saying at each step what it
/// still lacks; nobody edits it.
@Suite("Clusters wait for what they reference")
struct LevelTriggeredTests {
    @Test func aClusterAppliedBeforeItsDefinitionVersionAndTemplatesRunsOnceTheyAppear() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installVectorBlocksCRDs(client)
            _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
            let running = RunningOperator(client: client)
            let qdrant = try Addon.qdrant.objects()
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "early")
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForProblem("early", client: client) { $0.contains("ClusterDefinition \"qdrant\" not found") }

            // The version before its definition: Unavailable until the definition appears, then Available by itself.
            _ = try await client.create(qdrant.version)
            let versionName = try #require(qdrant.version.metadata?.name)
            _ = try await waitForVersion(versionName, .unavailable, client: client)
            _ = try await client.create(qdrant.definition)
            _ = try await waitForVersion(versionName, .available, client: client)

            let templates = qdrant.configMaps.compactMap { $0.metadata.flatMap { "\($0.namespace ?? "")/\($0.name ?? "")" } }
            #expect(templates.count == 2)
            let allMissing = try await waitForProblem("early", client: client) { message in
                templates.allSatisfy { message.contains("ConfigMap \"\($0)\"") }
            }
            #expect(!allMissing.contains("ClusterDefinition"))
            _ = try await client.create(qdrant.configMaps[0])
            _ = try await waitForProblem("early", client: client) { message in
                !message.contains("ConfigMap \"\(templates[0])\"") && message.contains("ConfigMap \"\(templates[1])\"")
            }
            _ = try await client.create(qdrant.configMaps[1])

            let provisioned = try await waitForPhase(.running, "early", client: client)
            #expect(provisioned.metadata?.generation == 1)
            #expect(Conditions.isTrue(provisioned.status?.conditions, type: ClusterStatus.ConditionType.provisioningStarted.rawValue))
            await running.stop()
        }
    }

    /// The message of the Cluster's failed ProvisioningStarted condition once `matches` holds for it.
    func waitForProblem(_ name: String, client: KubeClient, _ matches: @escaping (String) -> Bool) async throws -> String {
        try await eventually("cluster \(name)'s condition to say what it lacks") {
            let cluster = try await client.get(Cluster.self, name: name, namespace: "default")
            let condition = Conditions.find(cluster.status?.conditions, type: ClusterStatus.ConditionType.provisioningStarted.rawValue)
            guard cluster.status?.phase == .failed, let message = condition?.message, matches(message) else { return nil }
            return message
        }
    }

    func waitForVersion(_ name: String, _ phase: AvailabilityPhase, client: KubeClient) async throws -> ClusterVersion {
        try await eventually("ClusterVersion \(name) to be \(phase.rawValue)") {
            let version = try await client.get(ClusterVersion.self, name: name)
            return version.status?.phase == phase ? version : nil
        }
    }
}
