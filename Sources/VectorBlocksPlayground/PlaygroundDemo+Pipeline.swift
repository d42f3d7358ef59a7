import Foundation
import KubeKit
import VectorBlocksAPI
import VectorBlocksCLI

/// The demo's pipeline: a table of documents in the pgvector cluster's own database, a VectorPipeline whose Pelican
/// and Emu pods embed it into a vector table of the same cluster, its status followed as the backfill arrives, and
/// more rows streamed in afterwards. The password goes from the cluster's Secret into the pipeline's Secret in memory,
/// never to the output.
extension PlaygroundDemo {
    static let pipeline = "documents"
    static let documents = 200
    static let laterDocuments = 20

    func feed(_ cluster: String, step: Int, address: String) async throws {
        say("== \(step). feed \(cluster) from a table: a VectorPipeline whose Pelican and Emu pods run")
        try await runPsqlPod(
            "seed-documents", cluster: cluster,
            sql: """
                CREATE TABLE IF NOT EXISTS public.documents (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL);
                INSERT INTO public.documents SELECT i, 'Document ' || i, 'The text of document ' || i
                FROM generate_series(1, \(Self.documents)) i ON CONFLICT DO NOTHING
                """)
        say("   table public.documents in \(cluster) holds \(Self.documents) rows (written by the pod seed-documents)")
        try await createSourceSecret(for: cluster)
        var creation = PipelineCreation(
            name: Self.pipeline, namespace: "default", sourceSecret: "app-database", table: "public.documents", primaryKey: ["id"],
            textTemplate: "{title}: {body}")
        creation.payloadColumns = ["title"]
        creation.dimension = 64
        creation.pgvectorCluster = cluster
        creation.pgvectorTable = "vectors.documents"
        creation.maxReplicas = 2
        say("   " + (try await session.printCreated(try await session.createPipeline(creation))).trimmingCharacters(in: .newlines))
        try await followPipeline(until: Int64(Self.documents))

        try await runPsqlPod(
            "more-documents", cluster: cluster,
            sql: """
                INSERT INTO public.documents SELECT i, 'Later document ' || i, 'Written while the pipeline streams ' || i
                FROM generate_series(\(Self.documents + 1), \(Self.documents + Self.laterDocuments)) i ON CONFLICT DO NOTHING
                """)
        say("   \(Self.laterDocuments) more rows inserted: Pelican's trigger captured them, and Emu embeds them as they come")
        let username = try await credential(of: cluster)["username"] ?? "postgres"
        say(
            """
               the vectors are in \(cluster), table vectors.documents:
                 psql -h \(address) -U \(username) -d postgres -c 'select count(*) from vectors.documents'
            """)
    }

    /// Prints the pipeline's phase, backfill and backlog as they change, until it streams with nothing waiting.
    private func followPipeline(until backfilled: Int64) async throws {
        var last = ""
        for _ in 0..<3000 {
            let status = try await session.getPipeline(Self.pipeline).status
            let phase = status?.phase?.rawValue ?? "Pending"
            let line =
                "   pipeline \(Self.pipeline): \(phase), backfill \(status?.backfill?.rowsDone ?? 0)/\(status?.backfill?.rowsTotal ?? 0), backlog \(status?.backlog.map(String.init) ?? "-")"
            if line != last {
                say(line)
                last = line
            }
            if status?.phase == .streaming, status?.backlog == 0, (status?.backfill?.rowsDone ?? 0) >= backfilled { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("pipeline \(Self.pipeline) did not reach Streaming; see kbctl pipeline describe \(Self.pipeline)")
    }

    /// Runs one psql statement in a pod of the PostgreSQL image, connected with the cluster's credential, and waits
    /// for it to succeed.
    private func runPsqlPod(_ name: String, cluster: String, sql: String) async throws {
        let credential = "\(cluster)-conn-credential"
        func fromCredential(_ variable: String, _ key: String) -> CoreV1.EnvVar {
            CoreV1.EnvVar(name: variable, valueFrom: CoreV1.EnvVarSource(secretKeyRef: CoreV1.SecretKeySelector(key: key, name: credential)))
        }
        var container = CoreV1.Container(name: "psql")
        container.image = "pgvector/pgvector:pg17"
        container.command = ["psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]
        container.env = [fromCredential("PGHOST", "host"), fromCredential("PGUSER", "username"), fromCredential("PGPASSWORD", "password")]
        var spec = CoreV1.PodSpec(containers: [container])
        spec.restartPolicy = "Never"
        _ = try await session.client.create(CoreV1.Pod(metadata: MetaV1.ObjectMeta(name: name, namespace: "default"), spec: spec))
        for _ in 0..<1500 {
            let pod = try await session.client.get(CoreV1.Pod.self, name: name, namespace: "default")
            switch pod.status?.phase {
            case "Succeeded": return
            case "Failed": throw CLIError("the pod \(name) failed; see kubectl logs \(name)")
            default: try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw CLIError("the pod \(name) did not finish; see kubectl describe pod \(name)")
    }

    /// The Secret `app-database` with the source's URI: the cluster's read-write Service address (which both the
    /// pipeline's pods and the operator reach) and its credential.
    private func createSourceSecret(for cluster: String) async throws {
        let values = try await credential(of: cluster)
        let service = try await session.client.get(CoreV1.Service.self, name: "\(cluster)-postgresql", namespace: "default")
        guard let host = service.spec?.clusterIP, let username = values["username"], let password = values["password"] else {
            throw CLIError("\(cluster) has no address or credential yet; see kbctl cluster describe \(cluster)")
        }
        let escape = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        let uri = "postgres://\(escape(username)):\(escape(password))@\(host):\(values["port"] ?? "5432")/postgres"
        _ = try await session.client.create(
            CoreV1.Secret(
                data: ["uri": Data(uri.utf8).base64EncodedString()], metadata: MetaV1.ObjectMeta(name: "app-database", namespace: "default"),
                type: "Opaque"))
        say("   Secret app-database holds the source's URI (\(cluster)'s credential, not printed)")
    }

    private func credential(of cluster: String) async throws -> [String: String] {
        let secret = try await session.client.get(CoreV1.Secret.self, name: "\(cluster)-conn-credential", namespace: "default")
        return (secret.data ?? [:]).compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
    }
}
