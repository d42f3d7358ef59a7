import KubeKit
import KubeSim
import MetricsTestKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// A Cluster whose definition, version and templates arrive after it proceeds by itself, saying at each step what it
/// still lacks; nobody edits it.
@Suite("Clusters wait for what they reference")
struct LevelTriggeredTests {
    /// Templates come from their own watches: a reconcile of a running Cluster reads none from the server, and a
    /// changed template reaches the rendered ConfigMap without any change to the Cluster.
    @Test func templatesAreReadFromTheirWatchesAndTheirChangesPropagate() async throws {
        try await withKubeSim(workloads: true) { server, client in
            try await installOperatorPrerequisites(client)
            let metrics = TestMetrics()
            let running = RunningOperator(client: client, metricsFactory: metrics)
            var cluster = try exampleCluster("qdrant-cluster.yaml", name: "templated")
            cluster.spec.componentSpecs[0].replicas = 1
            _ = try await client.create(cluster)
            _ = try await waitForPhase(.running, "templated", client: client)

            let templateReads = { await server.requestCounts()[RequestKey(verb: "get", resource: "configmaps")] ?? 0 }
            let readsBefore = await templateReads()
            let reconciles = {
                metrics.counterTotal(label: "controller_runtime_reconcile_total", dimensions: [("controller", "cluster"), ("result", "success")])
            }
            let before = reconciles()
            _ = try await client.patch(Cluster.self, name: "templated", namespace: "default", patch: .merge(["metadata": ["annotations": ["touched": "yes"]]]))
            _ = try await eventually("the annotated cluster to be reconciled") { reconciles() > before ? true : nil }
            #expect(await templateReads() == readsBefore)

            var template = try #require(try Addon.qdrant.objects().configMaps.first)
            let key = try #require(template.data?.keys.sorted().first)
            let original = template.data?[key] ?? ""
            template.data?[key] = original + "\n# changed by the test\n"
            _ = try await client.apply(template, fieldManager: "test", force: true)
            let rendered = try await eventually("the rendered ConfigMap to follow its template") { () -> Bool? in
                let list = try await client.list(CoreV1.ConfigMap.self, namespace: "default").items
                return list.contains { ($0.metadata?.name ?? "").hasPrefix("templated-") && ($0.data?[key] ?? "").contains("# changed by the test") }
                    ? true : nil
            }
            #expect(rendered)
            await running.stop()
        }
    }

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
