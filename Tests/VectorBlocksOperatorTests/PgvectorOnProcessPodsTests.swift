import Foundation
import KubeKit
import KubeSim
import ProcessSpawning
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksOperator

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL with pgvector from the test wheel (`scripts/test.sh` installs it; `VB_POSTGRES_BIN` names it).
private let postgres = processPodPostgres

/// The pgvector addon as shipped, run by the operator on pods that really run (KubeSim's process runtime).
@Suite(
    .enabled(if: canRunPgvectorProcessPods, pgvectorProcessPodsSkipReason))
struct PgvectorOnProcessPodsTests {
    @Test func theShippedAddonReplicatesOverThePodNetwork() async throws {
        let postgres = try #require(postgres)
        var configuration = KubeSimConfiguration()
        var workloads = WorkloadSimulation()
        workloads.runtime = .processes(ProcessRuntimeSettings(imageMap: ImageMap([postgres])))
        configuration.workloads = workloads
        try await withKubeSim(configuration: configuration) { server, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client, podAddressing: .podIP)
            do {
                try await replicate(client: client, server: server.baseURL, psql: postgres.binDirectory + "/psql")
            } catch {
                await running.stop()
                throw error
            }
            await running.stop()
        }
    }

    private func replicate(client: KubeClient, server: String, psql: String) async throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "vectors")
        cluster.spec.componentSpecs[0].replicas = 3
        _ = try await client.create(cluster)
        do {
            _ = try await waitForPhase(.running, "vectors", client: client)
        } catch {
            // What the pods said, so a failure shows which container got stuck where.
            let pods = (try? await client.list(CoreV1.Pod.self, namespace: "default").items) ?? []
            let events = (try? await client.list(CoreV1.Event.self, namespace: "default").items) ?? []
            var states: [String] = []
            for pod in pods {
                let name = pod.metadata?.name ?? ""
                let said = events.filter { $0.involvedObject.name == name }.map { "  \($0.reason ?? ""): \($0.message ?? "") (×\($0.count ?? 1))" }
                let kubectl = ProcessInfo.processInfo.environment["VB_KUBECTL"] ?? "/usr/bin/kubectl"
                let log = try? await run(kubectl, ["--server", server, "logs", name, "--tail", "20"])
                states.append(
                    "\(name): \(String(describing: pod.status?.containerStatuses))\n\(said.joined(separator: "\n"))\n  log:\n\(log?.output ?? "")")
            }
            Issue.record("pods:\n\(states.joined(separator: "\n"))")
            throw error
        }
        // Running counts ready pods; the roles are labelled from each server's answer, which can come a moment later.
        let pods = try await eventually("every pod's role labelled") { () -> [CoreV1.Pod]? in
            let pods = try await client.list(CoreV1.Pod.self, namespace: "default").items
            let roles = pods.compactMap { $0.metadata?.labels?["apps.vectorblocks.io/role"] }.sorted()
            return roles == ["primary", "secondary", "secondary"] ? pods : nil
        }
        #expect(pods.first { $0.metadata?.name == "vectors-postgresql-0" }?.metadata?.labels?["apps.vectorblocks.io/role"] == "primary")

        let secret = try await client.get(CoreV1.Secret.self, name: "vectors-conn-credential", namespace: "default")
        let decode = { (key: String) in (secret.data?[key]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let readWrite = try #require(try await client.get(CoreV1.Service.self, name: "vectors-postgresql", namespace: "default").spec?.clusterIP)
        let readOnly = try #require(try await client.get(CoreV1.Service.self, name: "vectors-postgresql-ro", namespace: "default").spec?.clusterIP)
        let run = { (host: String, sql: String) throws -> String in
            try runPsql(psql, host: host, user: decode("username"), password: decode("password"), sql: sql)
        }
        // The operator creates the extension once the primary is ready.
        _ = try await eventually("the vector extension") { () -> Bool? in
            try run(readWrite, "select extname from pg_extension where extname = 'vector'") == "vector" ? true : nil
        }
        #expect(try run(readWrite, "select passwd like 'SCRAM-SHA-256%' from pg_shadow where usename = current_user") == "t")
        _ = try run(readWrite, "create table items (id int primary key, embedding vector(3)); insert into items values (1, '[1,2,3]')")
        let standby = try await eventually("the row on a standby") { () -> String? in
            let row = try? run(readOnly, "select pg_is_in_recovery() || ' ' || embedding::text from items where id = 1")
            return row?.isEmpty == false ? row : nil
        }
        #expect(standby == "true [1,2,3]")
        #expect(try run(readWrite, "select count(*) from pg_stat_replication where state = 'streaming'") == "2")

        // A deleted standby comes back as a standby with its data (its claim's directory outlived it).
        let before = try await client.get(CoreV1.Pod.self, name: "vectors-postgresql-1", namespace: "default").metadata?.uid
        try await client.delete(CoreV1.Pod.self, name: "vectors-postgresql-1", namespace: "default")
        _ = try await eventually("vectors-postgresql-1 back as a ready standby") { () -> Bool? in
            let pod = try await client.get(CoreV1.Pod.self, name: "vectors-postgresql-1", namespace: "default")
            let ready = pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
            return pod.metadata?.uid != before && ready && pod.metadata?.labels?["apps.vectorblocks.io/role"] == "secondary" ? true : nil
        }
        let back = try await client.get(CoreV1.Pod.self, name: "vectors-postgresql-1", namespace: "default")
        let address = try #require(back.status?.podIP)
        #expect(try run(address, "select pg_is_in_recovery() || ' ' || embedding::text from items where id = 1") == "true [1,2,3]")
    }
}

/// Runs one statement with the wheel's psql; its output without alignment, or its error.
func runPsql(_ psql: String, host: String, user: String, password: String, sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: psql)
    process.arguments = ["-h", host, "-U", user, "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
    process.environment = ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"]
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("psql-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try ProcessSpawner.run(process)
    process.waitUntilExit()
    try handle.close()
    let text = (try? String(contentsOf: output, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    guard process.terminationStatus == 0 else { throw PsqlFailed(output: text) }
    return text
}

struct PsqlFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { "psql failed: \(output)" }
}
