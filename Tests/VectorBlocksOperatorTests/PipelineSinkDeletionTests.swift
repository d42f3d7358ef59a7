import Foundation
import KubeKit
import KubeSim
import Logging
import OperatorKit
import PostgresNIO
import TestSupport
import Testing
import VectorBlocksAPI
import VectorSync

@testable import VectorBlocksOperator

/// A removed sink's data against KubeSim (its Emu pods made from the operator's Deployment), a real PostgreSQL for
/// the pgvector tables and the Qdrant double: `Retain` keeps a table; `Delete` drops one the pipeline made once no
/// Emu pod of the old template is left; a `Delete` table someone else made is kept with a condition and an Event;
/// deleting the pipeline drops its `Delete` Qdrant collection, waiting (and saying why) while its Secret is missing.
@Suite("VectorPipeline sink deletion")
struct PipelineSinkDeletionTests {
    typealias Fixtures = PipelineControllerTests
    static let maker = "default/documents"

    static func spec(postgres: PostgresServer, qdrant: QdrantServer) -> VectorPipelineSpec {
        func pgvector(_ name: String, _ policy: VectorPipelineSpec.Sink.DeletionPolicy?) -> VectorPipelineSpec.Sink {
            .init(
                name: name, kind: .pgvector,
                endpoint: .init(url: "postgres://127.0.0.1:\(postgres.port)/postgres", credentialsSecretRef: .init(name: "vector-database", key: "uri")),
                collection: "vectors.\(name)", deletionPolicy: policy)
        }
        return VectorPipelineSpec(
            source: .init(
                connectionSecretRef: .init(name: "app-database", key: "uri"), table: "public.documents", primaryKey: ["id"], textTemplate: "{title}"),
            embedder: .init(kind: .hash, dimension: 8),
            sinks: [
                pgvector("kept", nil), pgvector("dropped", .delete), pgvector("foreign", .delete),
                .init(
                    name: "qdrant", kind: .qdrant, endpoint: .init(url: qdrant.baseURL, credentialsSecretRef: .init(name: "qdrant", key: "api-key")),
                    collection: "documents", deletionPolicy: .delete),
            ])
    }

    static func tables(_ postgres: PostgresServer) async throws -> [String] {
        try await postgres.psql("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'vectors'::regnamespace AND relkind = 'r'")
            .split(separator: ",").map(String.init)
    }

    static func removed(_ pipeline: VectorPipeline, _ name: String) -> RemovedSink? {
        pipeline.status?.removedSinks?.first { $0.name == name }
    }

    static func condition(_ pipeline: VectorPipeline, _ type: VectorPipelineStatus.SinkRemovalCondition) -> MetaV1.Condition? {
        Conditions.find(pipeline.status?.conditions, type: type.rawValue)
    }

    /// The sinks as Emu prepares them for this pipeline (its own code, recording the maker), and one made by hand.
    static func prepareSinks(postgres: PostgresServer, qdrant: QdrantServer) async throws {
        try await postgres.psql(
            """
            CREATE TABLE public.documents (id bigint PRIMARY KEY, title text NOT NULL);
            CREATE SCHEMA vectors;
            CREATE TABLE vectors.foreign (id text PRIMARY KEY, embedding vector(8) NOT NULL, payload jsonb NOT NULL, content_hash text NOT NULL);
            """)
        var logger = Logger(label: "test.sinks")
        logger.logLevel = .warning
        let endpoint = try PostgresEndpoint(url: postgres.url(), field: "test")
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            for table in ["vectors.kept", "vectors.dropped", "vectors.foreign"] {
                try await PgvectorSink(name: table, client: client, table: table, maker: maker, logger: logger).prepare(model: "hash", dimension: 8)
            }
            try await QdrantSink(
                name: "qdrant:documents", url: qdrant.baseURL, collection: "documents", apiKey: "sink-key", maker: maker, http: .shared, logger: logger
            ).prepare(model: "hash", dimension: 8)
        }
    }

    @Test func retainKeepsDeleteDropsOnceTheRolloutEndedAForeignTableIsKeptAndDeletingThePipelineDropsItsCollection() async throws {
        let qdrant = try await QdrantServer.start(apiKey: "sink-key")
        do {
            try await PostgresServer.with { postgres in
                try await postgres.psql("CREATE EXTENSION IF NOT EXISTS vector")
                try await Self.prepareSinks(postgres: postgres, qdrant: qdrant)
                // Emu records its pipeline in what it creates, and claims nothing it found.
                let comment = try await postgres.psql("SELECT obj_description('vectors.dropped'::regclass, 'pg_class')")
                #expect(comment.contains(#""pipeline":"default/documents""#))
                #expect(!(try await postgres.psql("SELECT obj_description('vectors.foreign'::regclass, 'pg_class')")).contains("pipeline"))
                let metadata = try #require(await qdrant.metadata(of: "documents"))
                #expect(try JSONValue.parse(metadata)["pipeline"]?.stringValue == Self.maker)

                try await withKubeSim(workloads: true) { _, client in
                    try await installVectorBlocksCRDs(client)
                    let running = RunningOperator(client: client, pipelineStatusInterval: .milliseconds(500))
                    for secret in [
                        Fixtures.secret("app-database", ["uri": postgres.url()]), Fixtures.secret("vector-database", ["uri": postgres.url()]),
                        Fixtures.secret("qdrant", ["api-key": "sink-key"]),
                    ] { _ = try await client.create(secret) }
                    _ = try await client.create(
                        VectorPipeline(metadata: .init(name: "documents", namespace: "default"), spec: Self.spec(postgres: postgres, qdrant: qdrant)))

                    let recorded = try await eventually("each sink's policy recorded in the status") { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        return pipeline.status?.sinks?.count == 4 && pipeline.status?.sinks?.allSatisfy({ $0.target != nil }) == true ? pipeline : nil
                    }
                    #expect(recorded.status?.sinks?.map(\.deletionPolicy) == [.retain, .delete, .delete, .delete])
                    // The Emu pod writing all four sinks; a finalizer holds it while it stops, as a slow shutdown would.
                    let oldEmu = try await eventually("an Emu pod writing the pgvector sinks") { () -> String? in
                        let pods = try await client.list(
                            CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/component=emu"))
                        return pods.items.first { $0.spec?.containers.first?.args?.contains("vectors.dropped") == true }?.metadata?.name
                    }
                    _ = try await client.patch(
                        CoreV1.Pod.self, name: oldEmu, namespace: "default", patch: .merge(["metadata": ["finalizers": ["test/hold"]]]))

                    try await client.edit(VectorPipeline.self, name: "documents", namespace: "default") {
                        $0.spec.sinks.removeAll { $0.kind == .pgvector }
                    }

                    let waiting = try await eventually("the drop waiting for the old Emu pod") { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        return Self.removed(pipeline, "dropped")?.message?.contains(oldEmu) == true ? pipeline : nil
                    }
                    #expect(Self.removed(waiting, "dropped")?.state == .pending)
                    #expect(Self.removed(waiting, "kept")?.state == .retained)
                    #expect(Self.condition(waiting, .removedSinksDeleted)?.status == "False")
                    #expect(Self.condition(waiting, .removedSinksDeleted)?.reason == "SinkDataDropWaiting")
                    #expect(try await Self.tables(postgres) == ["dropped", "foreign", "kept"])

                    _ = try await client.patch(CoreV1.Pod.self, name: oldEmu, namespace: "default", patch: .merge(["metadata": ["finalizers": []]]))
                    let settled = try await eventually("the removed sinks settled") { () -> VectorPipeline? in
                        let pipeline = try await Fixtures.pipeline(client)
                        return Self.removed(pipeline, "dropped")?.state == .deleted && Self.removed(pipeline, "foreign")?.state == .kept ? pipeline : nil
                    }
                    #expect(try await Self.tables(postgres) == ["foreign", "kept"])
                    #expect(Self.removed(settled, "kept")?.state == .retained)
                    #expect(Self.removed(settled, "foreign")?.message?.contains("names no pipeline") == true)
                    #expect(Self.condition(settled, .sinkDataNotDeleted)?.status == "True")
                    #expect(Self.condition(settled, .sinkDataNotDeleted)?.message.contains("sink foreign") == true)
                    #expect(Self.condition(settled, .removedSinksDeleted)?.status == "False")
                    #expect(Self.condition(settled, .removedSinksDeleted)?.reason == "SinkDataKept")
                    let events = try await eventually("SinkDataDeleted and SinkDataKept Events") { () -> [CoreV1.Event]? in
                        let events = try await Fixtures.events(client, about: "documents")
                        let reasons = Set(events.compactMap(\.reason))
                        return reasons.isSuperset(of: ["SinkDataDeleted", "SinkDataKept"]) ? events : nil
                    }
                    #expect(events.first { $0.reason == "SinkDataKept" }?.type == "Warning")
                    #expect(events.first { $0.reason == "SinkDataDeleted" }?.message?.contains("vectors.dropped") == true)

                    // Deleting the pipeline drops its Delete collection; without the Secret to reach it, it waits and says so.
                    try await client.delete(CoreV1.Secret.self, name: "qdrant", namespace: "default")
                    try await client.delete(VectorPipeline.self, name: "documents", namespace: "default")
                    _ = try await eventually("the deletion waiting for the Qdrant key") { () -> Bool? in
                        let pipeline = try await Fixtures.pipeline(client)
                        let ready = Fixtures.condition(pipeline, .ready)
                        return ready?.reason == "SinkDataDropWaiting" && ready?.message.contains("Secret \"qdrant\" not found") == true ? true : nil
                    }
                    #expect(await qdrant.metadata(of: "documents") != nil)
                    _ = try await client.create(Fixtures.secret("qdrant", ["api-key": "sink-key"]))
                    _ = try await eventually("the pipeline to go") { () -> Bool? in
                        do {
                            _ = try await Fixtures.pipeline(client)
                            return nil
                        } catch let error as KubeAPIError where error.isNotFound {
                            return true
                        }
                    }
                    #expect(await qdrant.metadata(of: "documents") == nil)
                    #expect(try await Self.tables(postgres) == ["foreign", "kept"])
                    await running.stop()
                }
            }
        } catch {
            try? await qdrant.shutdown()
            throw error
        }
        try await qdrant.shutdown()
    }
}
