import Foundation
import KubeKit
import KubeSim
import MetricsTestKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The VectorPipeline controller against KubeSim and a real PostgreSQL: it waits for what it lacks, naming the field,
/// proceeds by itself, and runs Pelican and Emu as its Deployments say (started here as processes, configured from
/// those Deployments and the Secrets they name, since KubeSim's pods run nothing yet).
@Suite("VectorPipeline controller")
struct PipelineControllerTests {
    static func secret(_ name: String, _ values: [String: String], namespace: String = "default") -> CoreV1.Secret {
        CoreV1.Secret(
            data: values.mapValues { Data($0.utf8).base64EncodedString() }, metadata: MetaV1.ObjectMeta(name: name, namespace: namespace),
            type: "Opaque")
    }

    static func pipeline(_ client: KubeClient, _ name: String = "documents") async throws -> VectorPipeline {
        try await client.get(VectorPipeline.self, name: name, namespace: "default")
    }

    static func condition(_ pipeline: VectorPipeline, _ type: VectorPipelineStatus.ConditionType) -> MetaV1.Condition? {
        Conditions.find(pipeline.status?.conditions, type: type.rawValue)
    }

    static func events(_ client: KubeClient, about name: String) async throws -> [CoreV1.Event] {
        try await client.list(CoreV1.Event.self, namespace: "default").items.filter { $0.involvedObject.name == name }
    }

    static func deploymentNames(_ client: KubeClient) async throws -> [String] {
        try await client.list(AppsV1.Deployment.self, namespace: "default", options: ListOptions(labelSelector: "\(PipelineNames.pipelineLabel)=documents"))
            .items.compactMap(\.metadata?.name).sorted()
    }

    @Test func aMissingSecretAndMissingSinkClustersAreConditionsNamingTheFieldAndThePipelineProceedsByItself() async throws {
        try await PostgresServer.with { postgres in
            try await withKubeSim(workloads: true) { _, client in
                try await installOperatorPrerequisites(client)
                let metrics = TestMetrics()
                let running = RunningOperator(client: client, metricsFactory: metrics, pipelineStatusInterval: .milliseconds(500))
                _ = try await client.create(try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self))

                let waitingForSecret = try await eventually("SourceReady=False naming the Secret") {
                    let pipeline = try await Self.pipeline(client)
                    return Self.condition(pipeline, .sourceReady)?.reason == "SecretNotFound" ? pipeline : nil
                }
                #expect(waitingForSecret.status?.phase == .pending)
                #expect(
                    Self.condition(waitingForSecret, .sourceReady)?.message.contains("spec.source.connectionSecretRef: Secret \"app-database\" not found")
                        == true)
                #expect(waitingForSecret.metadata?.finalizers == [PipelineNames.finalizer])
                _ = try await eventually("a Warning Event naming the field") {
                    try await Self.events(client, about: "documents").first { $0.message?.contains("spec.source.connectionSecretRef") == true }
                }
                #expect(try await Self.deploymentNames(client) == [])

                _ = try await client.create(Self.secret("app-database", ["uri": postgres.url()]))
                _ = try await client.create(Self.secret("openai", ["api-key": "sk-test"]))
                // The Secrets found, the source answers; the sinks' Clusters are what it waits for now.
                let waitingForClusters = try await eventually("SourceReady=True and SinksReady=False naming the sinks' Clusters") {
                    let pipeline = try await Self.pipeline(client)
                    return Self.condition(pipeline, .sourceReady)?.status == "True"
                        && Self.condition(pipeline, .sinksReady)?.reason == "ClusterNotFound" ? pipeline : nil
                }
                #expect(
                    Self.condition(waitingForClusters, .sinksReady)?.message.contains("spec.sinks[0].clusterRef.name: Cluster \"vectors\" not found") == true)
                #expect(
                    Self.condition(waitingForClusters, .sinksReady)?.message.contains("spec.sinks[1].clusterRef.name: Cluster \"embeddings\" not found") == true
                )
                // Pelican captures already; Emu waits for somewhere to write.
                _ = try await eventually("the Pelican Deployment") { try await Self.deploymentNames(client) == ["documents-pelican"] ? true : nil }
                _ = try await eventually("an Event naming the missing Cluster") {
                    try await Self.events(client, about: "documents").first { $0.message?.contains("spec.sinks[0].clusterRef.name") == true }
                }

                _ = try await client.create(try exampleCluster("qdrant-cluster.yaml"))
                _ = try await client.create(try exampleCluster("pgvector-cluster.yaml", name: "embeddings"))
                let sinksReady = try await eventually("SinksReady=True once both Clusters run") {
                    let pipeline = try await Self.pipeline(client)
                    return Self.condition(pipeline, .sinksReady)?.status == "True" ? pipeline : nil
                }
                #expect(sinksReady.status?.sinks?.allSatisfy { $0.ready == true } == true)
                _ = try await eventually("the Emu Deployment") {
                    try await Self.deploymentNames(client) == ["documents-emu", "documents-pelican"] ? true : nil
                }
                let emu = try await client.get(AppsV1.Deployment.self, name: "documents-emu", namespace: "default")
                let env = emu.spec?.template.spec?.containers.first?.env ?? []
                #expect(env.first { $0.name == "QDRANT_API_KEY" }?.valueFrom?.secretKeyRef?.name == "vectors-conn-credential")
                // Nothing runs Pelican in KubeSim's pods: the pipeline waits for its capture, and says so.
                #expect(Self.condition(sinksReady, .captureInstalled)?.status == "False")
                #expect(sinksReady.status?.phase == .pending)

                // Idle means nothing more is coming: Pelican's and Emu's pods are available (KubeSim's kubelets make
                // them Ready after a delay, and the status says so when they are) and nothing installs the capture.
                _ = try await eventually("Ready=False waiting for the capture, once Pelican and Emu are available") {
                    let pipeline = try await Self.pipeline(client)
                    return Self.condition(pipeline, .ready)?.reason == "WaitingForCapture" ? pipeline : nil
                }
                // An idle pipeline's status is not rewritten: once settled, the resourceVersion stays across the
                // looks the controller takes on its interval.
                let reconciles = ReconcileCounter(metrics, controller: "vectorpipeline")
                let settled = try await eventually("the status to settle") {
                    let first = try await Self.pipeline(client)
                    try await reconciles.waitForMore(3)
                    let second = try await Self.pipeline(client)
                    return first.metadata?.resourceVersion == second.metadata?.resourceVersion ? second : nil
                }
                #expect(settled.status?.phase == .pending)
                try await reconciles.waitForMore(5)
                let later = try await Self.pipeline(client)
                #expect(
                    later.metadata?.resourceVersion == settled.metadata?.resourceVersion,
                    "the status was rewritten: from \(String(describing: settled.status)) to \(String(describing: later.status))")

                try await client.delete(VectorPipeline.self, name: "documents", namespace: "default")
                _ = try await eventually("the pipeline and everything it owns to go", timeout: .seconds(120)) { () -> Bool? in
                    do {
                        _ = try await Self.pipeline(client)
                        return nil
                    } catch let error as KubeAPIError where error.isNotFound {
                        let left = try await client.list(
                            CoreV1.ConfigMap.self, namespace: "default",
                            options: ListOptions(labelSelector: "\(PipelineNames.pipelineLabel)=documents")
                        ).items
                        return try await Self.deploymentNames(client).isEmpty && left.isEmpty ? true : nil
                    }
                }
                await running.stop()
            }
        }
    }
}
