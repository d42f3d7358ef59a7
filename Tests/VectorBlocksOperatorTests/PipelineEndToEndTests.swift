import Foundation
import KubeKit
import KubeSim
import OperatorKit
import PipelineFixtures
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A pipeline from `kubectl apply` to Streaming: the operator's Deployments, run as the `pelican` and `emu` processes
/// they describe (environment from their ConfigMap and Secrets, their args), copy a composite-keyed table into
/// pgvector and the Qdrant double; the status follows the source database; Emu's replicas follow a burst of 2,000
/// changes and return to the minimum once it drains; deleting the pipeline removes its trigger and state, not the
/// table.
@Suite("VectorPipeline end to end")
struct PipelineEndToEndTests {
    typealias Fixtures = PipelineControllerTests

    static func spec(postgres: PostgresServer, qdrant: QdrantServer) -> VectorPipelineSpec {
        VectorPipelineSpec(
            source: .init(
                connectionSecretRef: .init(name: "app-database", key: "uri"), table: "docs.chunks", primaryKey: ["document_id", "lang"],
                textTemplate: "{title}: {body}", payloadColumns: ["title"]),
            embedder: .init(kind: .hash, dimension: 64, batchSize: 128),
            sinks: [
                .init(
                    name: "pgvector", kind: .pgvector,
                    endpoint: .init(
                        url: "postgres://127.0.0.1:\(postgres.port)/postgres",
                        credentialsSecretRef: .init(name: "vector-database", key: "uri")), collection: "vectors.chunks"),
                .init(
                    name: "qdrant", kind: .qdrant, endpoint: .init(url: qdrant.baseURL, credentialsSecretRef: .init(name: "qdrant", key: "api-key")),
                    collection: "chunks"),
            ],
            scaling: .init(
                mode: .backlog, minReplicas: 1, maxReplicas: 4, targetBacklogPerReplica: 500, scaleUpCooldownSeconds: 0,
                scaleDownCooldownSeconds: 0))
    }

    static func count(_ postgres: PostgresServer, _ sql: String) async throws -> Int {
        Int(try await postgres.psql(sql)) ?? -1
    }

    @Test func theOperatorsDeploymentsRunAsProcessesReachStreamingScaleWithTheBacklogAndCleanUp() async throws {
        let qdrant = try await QdrantServer.start(apiKey: "e2e-qdrant-key")
        var workers: [BackgroundProgram] = []
        do {
            try await PostgresServer.with { postgres in
                try await postgres.psql(
                    """
                    CREATE SCHEMA docs;
                    CREATE TABLE docs.chunks (document_id bigint, lang text, title text NOT NULL, body text NOT NULL, PRIMARY KEY (document_id, lang));
                    INSERT INTO docs.chunks SELECT d, l, 'Title ' || d, 'Body ' || d || ' ' || l FROM generate_series(1, 500) d, unnest(ARRAY['en', 'de']) l;
                    """)
                try await withKubeSim(workloads: true) { _, client in
                    try await installVectorBlocksCRDs(client)
                    let running = RunningOperator(client: client, pipelineStatusInterval: .milliseconds(500))
                    for secret in [
                        Fixtures.secret("app-database", ["uri": postgres.url()]), Fixtures.secret("vector-database", ["uri": postgres.url()]),
                        Fixtures.secret("qdrant", ["api-key": "e2e-qdrant-key"]),
                    ] { _ = try await client.create(secret) }
                    _ = try await client.create(
                        VectorPipeline(
                            metadata: .init(name: "documents", namespace: "default"), spec: Self.spec(postgres: postgres, qdrant: qdrant)))

                    // The pods a kubelet would start, from what the operator wrote.
                    func start(_ name: String) async throws -> BackgroundProgram {
                        let deployment = try await eventually("Deployment \(name)") {
                            try? await client.get(AppsV1.Deployment.self, name: name, namespace: "default")
                        }
                        return try await DeploymentProcess.resolve(deployment, client: client, extraArguments: ["--http-port", "0"]).start()
                    }
                    workers = [try await start("documents-pelican"), try await start("documents-emu")]

                    let streaming = try await eventually("Streaming with every row in both sinks", timeout: .seconds(300)) { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        guard pipeline.status?.phase == .streaming, pipeline.status?.backlog == 0 else { return nil }
                        guard try await Self.count(postgres, "SELECT count(*) FROM vectors.chunks") == 1000,
                            await qdrant.points(in: "chunks")?.count == 1000
                        else { return nil }
                        return pipeline
                    }
                    #expect(streaming.status?.backfill?.rowsDone == 1000)
                    #expect(streaming.status?.backfill?.complete == true)
                    for type in VectorPipelineStatus.ConditionType.allCases {
                        #expect(Fixtures.condition(streaming, type)?.status == "True", "\(type): \(streaming.status?.conditions ?? [])")
                    }
                    // Every key column makes the id.
                    #expect(try await Self.count(postgres, #"SELECT count(*) FROM vectors.chunks WHERE id = '["7", "de"]'"#) == 1)
                    _ = try await eventually("a Normal Event for Streaming") {
                        try await Fixtures.events(client, about: "documents").first { $0.reason == "PipelineStreaming" }
                    }

                    // Emu stops; a burst of 2,000 changes waits; the operator scales Emu up to the maximum.
                    await workers[1].kill()
                    try await postgres.psql(
                        """
                        INSERT INTO docs.chunks SELECT d, 'fr', 'Title ' || d, 'Corps ' || d FROM generate_series(1, 2000) d
                        """)
                    let scaledUp = try await eventually("Emu scaled up for the burst") { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        return (pipeline.status?.emuReplicas ?? 0) == 4 ? pipeline : nil
                    }
                    #expect((scaledUp.status?.backlog ?? 0) > 500)
                    _ = try await eventually("the Emu Deployment at 4 replicas") {
                        try await client.get(AppsV1.Deployment.self, name: "documents-emu", namespace: "default").spec?.replicas == 4 ? true : nil
                    }
                    workers.append(try await start("documents-emu"))
                    workers.append(try await start("documents-emu"))
                    let drained = try await eventually("Emu back at the minimum once drained", timeout: .seconds(600)) { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        return pipeline.status?.emuReplicas == 1 && pipeline.status?.backlog == 0 ? pipeline : nil
                    }
                    #expect(drained.status?.phase == .streaming)
                    #expect(try await Self.count(postgres, "SELECT count(*) FROM vectors.chunks") == 3000)
                    _ = try await eventually("EmuScaled Events") {
                        try await Fixtures.events(client, about: "documents").first { $0.reason == "EmuScaled" }
                    }

                    try await client.delete(VectorPipeline.self, name: "documents", namespace: "default")
                    _ = try await eventually("the Deployments to go") { try await Fixtures.deploymentNames(client).isEmpty ? true : nil }
                    for worker in workers { await worker.kill() }
                    _ = try await eventually("the pipeline to go") { () -> Bool? in
                        do {
                            _ = try await Fixtures.pipeline(client)
                            return nil
                        } catch let error as KubeAPIError where error.isNotFound {
                            return true
                        }
                    }
                    #expect(try await Self.count(postgres, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vectorsync_%'") == 0)
                    #expect(try await Self.count(postgres, "SELECT count(*) FROM vectorsync.pipelines") == 0)
                    #expect(try await Self.count(postgres, "SELECT count(*) FROM vectorsync.jobs") == 0)
                    #expect(try await Self.count(postgres, "SELECT count(*) FROM docs.chunks") == 3000)
                    await running.stop()
                }
            }
        } catch {
            for worker in workers { Issue.record("\(worker.name):\n\(worker.output.suffix(3000))") }
            for worker in workers { await worker.kill() }
            try? await qdrant.shutdown()
            throw error
        }
        try await qdrant.shutdown()
    }
}
