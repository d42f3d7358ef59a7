import Foundation
import KubeKit
import KubeSim
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL with pgvector from the test wheel, for the sink Cluster's pods.
private let postgres = processPodPostgres
/// The `pelican` and `emu` executables `swift build --build-tests` puts beside the test bundle, for the pipeline's pods.
private let workers = (try? BuiltProduct.path("pelican")).flatMap { PipelineWorkerBinaries.find(in: ($0 as NSString).deletingLastPathComponent) }

/// A VectorPipeline whose own pods do the work: KubeSim runs the pgvector Cluster's pods as PostgreSQL and the
/// pipeline's Pelican and Emu Deployments as the `pelican` and `emu` executables (their images mapped as
/// `deploy/docker/` builds them, non-root), so what is tested is what the operator wrote: the env from the settings
/// ConfigMap and `secretKeyRef`s, the sink's URL expanded by the kubelet from the Cluster's credential, the pod
/// network and cluster DNS between them. The source is the test's own PostgreSQL, which the pods reach through a
/// proxy on the pod network's gateway, as an application database outside the cluster.
@Suite(
    .enabled(
        if: canRunPgvectorProcessPods && workers != nil,
        "needs root (pods run in network and mount namespaces), PostgreSQL with pgvector (run scripts/test.sh) and the built pelican and emu"
    ))
struct PipelineOnProcessPodsTests {
    typealias Fixtures = PipelineControllerTests

    static let rows = 300

    @Test func thePipelinesOwnPodsCopyASourceTableIntoAPgvectorClustersPods() async throws {
        let postgres = try #require(postgres)
        let workers = try #require(workers)
        var configuration = KubeSimConfiguration()
        var workloads = WorkloadSimulation()
        workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: ImageMap([postgres] + workers)))
        configuration.workloads = workloads
        try await PostgresServer.with { source in
            try await source.psql(
                """
                CREATE TABLE public.docs (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL);
                INSERT INTO public.docs SELECT i, 'Title ' || i, 'Body of document ' || i FROM generate_series(1, \(Self.rows)) i;
                """)
            try await withKubeSim(configuration: configuration) { server, client in
                try await installOperatorPrerequisites(client)
                let gateway = try #require(server.podNetwork?.gateway)
                let proxy = try await SeverableProxy.start(upstreamPort: source.port, listeningOn: gateway)
                let running = RunningOperator(client: client, podAddressing: .podIP, pipelineStatusInterval: .milliseconds(500))
                do {
                    try await copy(
                        server: server, client: client, source: source, sourceURL: "postgres://postgres@\(gateway):\(proxy.port)/postgres",
                        psql: postgres.binDirectory + "/psql")
                } catch {
                    await running.stop()
                    try? await proxy.shutdown()
                    throw error
                }
                await running.stop()
                try await proxy.shutdown()
            }
        }
    }

    private func copy(server: KubeSimServer, client: KubeClient, source: PostgresServer, sourceURL: String, psql: String) async throws {
        let kubeSim = server.baseURL
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "embeddings")
        cluster.spec.componentSpecs[0].replicas = 1
        _ = try await client.create(cluster)
        _ = try await client.create(Fixtures.secret("app-database", ["uri": sourceURL]))
        _ = try await client.create(
            VectorPipeline(
                metadata: .init(name: "documents", namespace: "default"),
                spec: VectorPipelineSpec(
                    source: .init(
                        connectionSecretRef: .init(name: "app-database", key: "uri"), table: "public.docs", primaryKey: ["id"],
                        textTemplate: "{title}: {body}", payloadColumns: ["title"]),
                    // Short, so the messages a killed Emu held come back soon.
                    queue: .init(visibilityTimeoutSeconds: 10),
                    embedder: .init(kind: .hash, dimension: 64, batchSize: 100),
                    sinks: [.init(name: "embeddings", kind: .pgvector, clusterRef: .init(name: "embeddings"), collection: "vectors.docs")],
                    scaling: .init(minReplicas: 1, maxReplicas: 1))))

        let sink = try await SinkDatabase(client: client, cluster: "embeddings", psql: psql)
        let streaming: VectorPipeline
        do {
            streaming = try await eventually("Streaming with every row in the Cluster's pods", timeout: .seconds(400)) { () -> VectorPipeline? in
                let pipeline = try await Fixtures.pipeline(client)
                guard pipeline.status?.phase == .streaming, pipeline.status?.backlog == 0,
                    try await sink.count("SELECT count(*) FROM vectors.docs") == Self.rows
                else { return nil }
                return pipeline
            }
        } catch {
            Issue.record("the pipeline's pods:\n\(await podReport(client: client, kubeSim: kubeSim))")
            throw error
        }
        #expect(streaming.status?.backfill?.rowsDone == Int64(Self.rows))
        for type in VectorPipelineStatus.ConditionType.allCases {
            #expect(Fixtures.condition(streaming, type)?.status == "True", "\(type): \(streaming.status?.conditions ?? [])")
        }
        // The workers ran in their pods (not simulated), as the image's non-root user.
        let pods = try await client.list(CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "\(PipelineNames.pipelineLabel)=documents"))
            .items
        #expect(pods.count == 3, "two Pelicans and one Emu: \(pods.compactMap(\.metadata?.name))")
        for pod in pods {
            let running = pod.status?.containerStatuses?.first?.state?.running != nil
            #expect(running, "\(pod.metadata?.name ?? ""): \(String(describing: pod.status?.containerStatuses))")
        }
        let simulated = try await client.list(CoreV1.Event.self, namespace: "default").items.filter {
            $0.reason == "Simulated" && ($0.involvedObject.name ?? "").hasPrefix("documents-")
        }
        #expect(simulated.isEmpty, "\(simulated.compactMap(\.message))")
        let said = try await Fixtures.events(client, about: "documents").compactMap(\.reason)
        #expect(said.contains("PipelineStreaming"), "\(said)")

        // Changes made in the source after the backfill arrive: an update, a delete, an insert.
        try await source.psql(
            """
            UPDATE public.docs SET title = 'Retitled' WHERE id = 7;
            DELETE FROM public.docs WHERE id = 8;
            INSERT INTO public.docs VALUES (\(Self.rows + 1), 'New', 'A new document');
            """)
        _ = try await eventually("the update, delete and insert in the sink", timeout: .seconds(120)) { () -> Bool? in
            let row = try await sink.value("SELECT coalesce((SELECT payload->>'title' FROM vectors.docs WHERE id = '7'), '')")
            let deleted = try await sink.count("SELECT count(*) FROM vectors.docs WHERE id = '8'")
            let inserted = try await sink.count("SELECT count(*) FROM vectors.docs WHERE id = '\(Self.rows + 1)'")
            return row == "Retitled" && deleted == 0 && inserted == 1 ? true : nil
        }
        #expect(try await sink.count("SELECT count(*) FROM vectors.docs") == Self.rows)

        // Pelican's and Emu's /metrics, scraped from their pods as Prometheus would.
        var backfilled = 0.0
        var captured = 0.0
        for address in try await podAddresses(client, worker: "pelican") {
            let metrics = try await scrape(address)
            backfilled += Self.metric("vectorsync_rows_backfilled_total", in: metrics) ?? 0
            captured += Self.metric("vectorsync_changes_captured_total", in: metrics) ?? 0
        }
        #expect(backfilled >= Double(Self.rows))
        #expect(captured >= 3)
        let emuMetrics = try await scrape(try #require(try await podAddresses(client, worker: "emu").first))
        #expect(Self.metric("vectorsync_messages_acked_total", in: emuMetrics) ?? 0 >= Double(Self.rows + 3), "\(emuMetrics)")
        #expect(Self.metric("vectorsync_rows_embedded_total", in: emuMetrics) ?? 0 >= Double(Self.rows), "\(emuMetrics)")

        // A message no worker can read is dead-lettered: the status and a Warning Event say so.
        let stateName = try #require(streaming.status?.sourceStateName)
        try await source.psql("INSERT INTO vectorsync.jobs (queue, body) VALUES ('\(stateName)', 'not a change message')")
        let dead = try await eventually("the dead letter in the status", timeout: .seconds(120)) { () -> VectorPipeline? in
            let pipeline = try await Fixtures.pipeline(client)
            return pipeline.status?.deadLetters == 1 ? pipeline : nil
        }
        #expect(dead.status?.lastDeadLetterError?.contains("unreadable message") == true, "\(String(describing: dead.status))")
        let deadLettered = try await eventually("a MessagesDeadLettered Event") {
            try await Fixtures.events(client, about: "documents").first { $0.reason == "MessagesDeadLettered" }
        }
        #expect(deadLettered.type == "Warning")
        #expect(said.contains("PipelinePending"), "the first phase, waiting for the Cluster: \(said)")

        try await migrate(client: client, source: source, sink: sink)
        // After the migration, so the burst's new texts do not change what the sinks' comparison saw.
        try await killEmuInABurst(server: server, client: client, source: source, sink: sink, table: "vectors.docs_next", rows: Self.rows + 1)
        try await scaleEmuWithTheBacklog(server: server, client: client, source: source, sink: sink, table: "vectors.docs_next", rows: Self.rows + 1)

        // Deleting the pipeline stops its pods and removes its capture from the source; the vectors stay.
        try await client.delete(VectorPipeline.self, name: "documents", namespace: "default")
        _ = try await eventually("the pipeline to go", timeout: .seconds(120)) { () -> Bool? in
            do {
                _ = try await Fixtures.pipeline(client)
                return nil
            } catch let error as KubeAPIError where error.isNotFound {
                return true
            }
        }
        #expect(try await source.psql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vectorsync_%'") == "0")
        #expect(try await sink.count("SELECT count(*) FROM vectors.docs_next") == Self.rows + 1 + Self.burst)
    }

    /// Expand and contract: a second sink added to the live pipeline is backfilled alone by the new Emu pod and
    /// compared with the first; the first, removed, is no longer written and keeps its vectors.
    private func migrate(client: KubeClient, source: PostgresServer, sink: SinkDatabase) async throws {
        try await editSpec(client) {
            $0.sinks.append(.init(name: "embeddings-next", kind: .pgvector, clusterRef: .init(name: "embeddings"), collection: "vectors.docs_next"))
        }
        let expanded = try await eventually("the added sink backfilled and compared", timeout: .seconds(300)) { () -> VectorPipeline? in
            let pipeline = try await Fixtures.pipeline(client)
            guard let added = pipeline.status?.sinks?.first(where: { $0.name == "embeddings-next" }), added.backfill?.complete == true,
                added.comparison != nil, try await sink.count("SELECT count(*) FROM vectors.docs_next") == Self.rows
            else { return nil }
            return pipeline
        }
        #expect(expanded.status?.phase == .streaming)
        let added = try #require(expanded.status?.sinks?.first { $0.name == "embeddings-next" })
        #expect(added.backfillComplete == true)
        #expect((added.backfill?.rowsDone ?? 0) >= Int64(Self.rows))
        #expect(added.comparison?.against == "embeddings")
        #expect(Double(added.comparison?.recallAt10 ?? "") ?? 0 >= 0.9, "\(String(describing: added.comparison))")
        // The first sink was not written again for the rows it held.
        #expect(expanded.status?.sinks?.first { $0.name == "embeddings" }?.backfill == nil)
        // The new Emu pod's /metrics: the added sink's own backfill and comparison.
        let metrics = try await scrape(try #require(try await podAddresses(client, worker: "emu").first))
        #expect(Self.metric(#"vectorsync_sink_backfill_rows_total{sink="vectors.docs_next"}"#, in: metrics) ?? 0 >= Double(Self.rows), "\(metrics)")
        #expect(metrics.contains("vectorsync_sink_recall_at_10{"), "\(metrics)")
        _ = try await eventually("the migration's Events") { () -> Bool? in
            let reasons = Set(try await Fixtures.events(client, about: "documents").compactMap(\.reason))
            return reasons.isSuperset(of: ["SinkAdded", "SinkBackfillComplete", "SinksCompared"]) ? true : nil
        }

        let emuWritingBoth = try await podNames(client, worker: "emu")
        try await editSpec(client) { $0.sinks.removeAll { $0.name == "embeddings" } }
        _ = try await eventually("a SinkRemoved Event") {
            try await Fixtures.events(client, about: "documents").first { $0.reason == "SinkRemoved" }
        }
        // The Emu pods that still wrote both sinks go only once their processes have ended; until then a new row
        // may still reach the removed sink, as in any rolling update.
        _ = try await eventually("the Emu pods that wrote both sinks to be gone", timeout: .seconds(120)) { () -> Bool? in
            try await podNames(client, worker: "emu", includingTerminating: true).isDisjoint(with: emuWritingBoth) ? true : nil
        }
        _ = try await podAddresses(client, worker: "emu")
        // Once the new Emu runs, a new row reaches the remaining sink only; the removed one keeps its vectors.
        try await source.psql("INSERT INTO public.docs VALUES (\(Self.rows + 2), 'Later', 'Written after the contraction')")
        _ = try await eventually("the new row in the remaining sink", timeout: .seconds(120)) { () -> Bool? in
            try await sink.count("SELECT count(*) FROM vectors.docs_next WHERE id = '\(Self.rows + 2)'") == 1 ? true : nil
        }
        #expect(try await sink.count("SELECT count(*) FROM vectors.docs WHERE id = '\(Self.rows + 2)'") == 0)
        #expect(try await sink.count("SELECT count(*) FROM vectors.docs") == Self.rows)
    }

    /// An Emu pod SIGKILLed while it works through a burst of changes loses none of them: the messages it held come
    /// back when their visibility runs out, and the kubelet restarts its container.
    private func killEmuInABurst(
        server: KubeSimServer, client: KubeClient, source: PostgresServer, sink: SinkDatabase, table: String, rows: Int
    ) async throws {
        let emu = try #require(try await podNames(client, worker: "emu").first)
        let revised = "SELECT count(*) FROM \(table) WHERE payload->>'title' LIKE '% (revised)'"
        try await source.psql("UPDATE public.docs SET title = title || ' (revised)'")
        _ = try await eventually("Emu to have written the first revisions", timeout: .seconds(120)) { () -> Bool? in
            try await sink.count(revised) > 0 ? true : nil
        }
        try await server.killContainer("emu", pod: emu)
        _ = try await eventually("every revision in the sink after the kill", timeout: .seconds(240)) { () -> Bool? in
            try await sink.count(revised) == rows ? true : nil
        }
        let restarts = try await client.get(CoreV1.Pod.self, name: emu, namespace: "default").status?.containerStatuses?.first { $0.name == "emu" }?
            .restartCount
        #expect(restarts ?? 0 >= 1, "the kubelet restarted the killed container")
    }

    /// Rows of the burst the backlog scaling works through.
    static let burst = 1500

    /// Emu's replicas follow the queue: with its only pod cut off the network, a burst waits in the queue and the
    /// operator scales Emu to its maximum (a backlog of `burst` is three replicas' worth); the new pods drain it, and
    /// Emu returns to its minimum.
    private func scaleEmuWithTheBacklog(
        server: KubeSimServer, client: KubeClient, source: PostgresServer, sink: SinkDatabase, table: String, rows: Int
    ) async throws {
        try await editSpec(client) {
            $0.scaling = .init(
                mode: .backlog, minReplicas: 1, maxReplicas: 3, targetBacklogPerReplica: Int32(Self.burst / 3), scaleUpCooldownSeconds: 0,
                scaleDownCooldownSeconds: 0)
        }
        let first = try #require(try await podNames(client, worker: "emu").first)
        try await server.setPodNetworkConnected(false, pod: first)
        let start = Self.rows + 1000
        try await source.psql(
            "INSERT INTO public.docs SELECT i, 'Burst ' || i, 'Body of burst row ' || i FROM generate_series(\(start + 1), \(start + Self.burst)) i")
        let scaledUp = try await eventually("Emu scaled up for the burst", timeout: .seconds(120)) { () -> VectorPipeline? in
            let pipeline = try await Fixtures.pipeline(client)
            return pipeline.status?.emuReplicas == 3 ? pipeline : nil
        }
        #expect((scaledUp.status?.backlog ?? 0) > Int64(Self.burst * 2 / 3), "\(String(describing: scaledUp.status))")
        _ = try await eventually("three Emu pods running") { () -> Bool? in
            try await podAddresses(client, worker: "emu").count == 3 ? true : nil
        }
        try await server.setPodNetworkConnected(true, pod: first)
        let drained = try await eventually("Emu back at its minimum once drained", timeout: .seconds(400)) { () -> VectorPipeline? in
            let pipeline = try await Fixtures.pipeline(client)
            guard pipeline.status?.emuReplicas == 1, pipeline.status?.backlog == 0,
                try await sink.count("SELECT count(*) FROM \(table)") == rows + Self.burst
            else { return nil }
            return pipeline
        }
        #expect(drained.status?.phase == .streaming)
        _ = try await eventually("the Emu Deployment at 1 replica") {
            try await client.get(AppsV1.Deployment.self, name: "documents-emu", namespace: "default").spec?.replicas == 1 ? true : nil
        }
        let scaled = try await Fixtures.events(client, about: "documents").filter { $0.reason == "EmuScaled" }.compactMap(\.message)
        #expect(scaled.count >= 2, "up and down: \(scaled)")
    }

    /// The names of the pods of one of the pipeline's workers, those being deleted too when asked.
    private func podNames(_ client: KubeClient, worker: String, includingTerminating: Bool = false) async throws -> Set<String> {
        let pods = try await client.list(
            CoreV1.Pod.self, namespace: "default",
            options: ListOptions(labelSelector: "\(PipelineNames.pipelineLabel)=documents,\(PipelineNames.componentLabel)=\(worker)")
        ).items
        return Set(pods.filter { includingTerminating || $0.metadata?.deletionTimestamp == nil }.compactMap(\.metadata?.name))
    }

    /// The addresses of the running pods of one of the pipeline's workers (`pelican`, `emu`).
    private func podAddresses(_ client: KubeClient, worker: String) async throws -> [String] {
        try await eventually("the \(worker) pods' addresses") { () -> [String]? in
            let pods = try await client.list(
                CoreV1.Pod.self, namespace: "default",
                options: ListOptions(labelSelector: "\(PipelineNames.pipelineLabel)=documents,\(PipelineNames.componentLabel)=\(worker)")
            ).items.filter { $0.metadata?.deletionTimestamp == nil }
            let addresses = pods.compactMap(\.status?.podIP)
            return !addresses.isEmpty && addresses.count == pods.count ? addresses : nil
        }
    }

    private func scrape(_ address: String) async throws -> String {
        try await run("/usr/bin/curl", ["-sS", "--max-time", "5", "http://\(address):\(PipelineNames.metricsPort)/metrics"]).output
    }

    /// A sample's value in Prometheus' text format, by its name and labels as printed.
    static func metric(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1).split(separator: " ")[0]) }
    }

    /// Edits the pipeline's spec as `kubectl edit` would, again on a conflict with the operator's status writes.
    private func editSpec(_ client: KubeClient, _ edit: (inout VectorPipelineSpec) -> Void) async throws {
        try await client.edit(VectorPipeline.self, name: "documents", namespace: "default") { edit(&$0.spec) }
    }

    /// Each pipeline pod's container states, Events and last log lines, so a failure shows where a worker got stuck.
    private func podReport(client: KubeClient, kubeSim: String) async -> String {
        let pods = (try? await client.list(CoreV1.Pod.self, namespace: "default").items) ?? []
        let events = (try? await client.list(CoreV1.Event.self, namespace: "default").items) ?? []
        var report: [String] = []
        for pod in pods {
            let name = pod.metadata?.name ?? ""
            let said = events.filter { $0.involvedObject.name == name }.map { "  \($0.reason ?? ""): \($0.message ?? "")" }
            let kubectl = ProcessInfo.processInfo.environment["VB_KUBECTL"] ?? "/usr/bin/kubectl"
            let log = try? await run(kubectl, ["--server", kubeSim, "logs", name, "--tail", "20"])
            report.append("\(name): \(String(describing: pod.status?.containerStatuses))\n\(said.joined(separator: "\n"))\n  log:\n\(log?.output ?? "")")
        }
        let pipeline = try? await Fixtures.pipeline(client)
        report.append("pipeline status: \(String(describing: pipeline?.status))")
        return report.joined(separator: "\n")
    }
}

/// The sink Cluster's database through its read-write Service, with the Cluster's own credential.
private struct SinkDatabase {
    let psql: String
    let host: String
    let username: String
    let password: String

    init(client: KubeClient, cluster: String, psql: String) async throws {
        let secret = try await eventually("the credential of \(cluster)") {
            try? await client.get(CoreV1.Secret.self, name: "\(cluster)-conn-credential", namespace: "default")
        }
        let decode = { (key: String) in (secret.data?[key]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        self.psql = psql
        host = try await eventually("the read-write Service of \(cluster)") {
            try? await client.get(CoreV1.Service.self, name: "\(cluster)-postgresql", namespace: "default").spec?.clusterIP
        }
        username = decode("username")
        password = decode("password")
    }

    /// One value, or an error while the server or the table is not there yet.
    func value(_ sql: String) async throws -> String {
        let result = try await run(
            psql, ["-h", host, "-U", username, "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
        guard result.status == 0 else { throw TestSetupError("psql: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A count, or -1 while the sink cannot answer yet (its table is made by Emu's first write).
    func count(_ sql: String) async throws -> Int {
        (try? await value(sql)).flatMap { Int($0) } ?? -1
    }
}
