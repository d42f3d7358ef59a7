import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI

/// `kbctl cluster connect`: the credential only in the client's environment, never in what is printed or passed.
@Suite("kbctl cluster connect")
struct ConnectTests {
    static func source(_ engine: String, _ credential: [String: String]) -> ClusterConnection.Source {
        .init(cluster: "c", namespace: "team", engine: engine, secretName: "c-conn-credential", credential: credential)
    }

    @Test func psqlGetsThePasswordOnlyThroughItsEnvironment() throws {
        let credential = ["username": "postgres", "password": "s3cr3t-pw", "host": "c-postgresql.team.svc", "port": "5432"]
        let plan = try ClusterConnection.plan(Self.source("pgvector", credential), clientArguments: ["-c", "select 1"])
        #expect(plan.program == "psql")
        #expect(plan.arguments == ["-h", "c-postgresql.team.svc", "-p", "5432", "-U", "postgres", "-d", "postgres", "-c", "select 1"])
        #expect(plan.environment == ["PGPASSWORD": "s3cr3t-pw"])
        #expect(!plan.printed.contains("s3cr3t-pw"))
        #expect(
            plan.printed.hasPrefix(
                #"PGPASSWORD="$(kubectl get secret -n team c-conn-credential -o jsonpath='{.data.password}' | base64 -d)" psql -h c-postgresql.team.svc -p 5432 -U postgres -d postgres -c 'select 1'"#
                    + "\n"), "\(plan.printed)")
        let forwarded = try ClusterConnection.plan(Self.source("pgvector", credential), host: "127.0.0.1", port: "15432", database: "shop")
        #expect(forwarded.arguments == ["-h", "127.0.0.1", "-p", "15432", "-U", "postgres", "-d", "shop"])
    }

    @Test func qdrantPrintsTheURLAndACurlThatReadsTheKeyFromAVariable() throws {
        let credential = [
            "apiKey": "k3y-value", "password": "k3y-value", "endpoint": "http://c-qdrant.team.svc.cluster.local:6333",
            "host": "c-qdrant.team.svc.cluster.local", "port": "6333",
        ]
        let plan = try ClusterConnection.plan(Self.source("qdrant", credential))
        #expect(plan.program == nil && plan.environment.isEmpty)
        #expect(!plan.printed.contains("k3y-value"))
        #expect(plan.printed.contains("Qdrant REST endpoint: http://c-qdrant.team.svc.cluster.local:6333\n"))
        #expect(plan.printed.contains(#"curl -H "api-key: $QDRANT_API_KEY" http://c-qdrant.team.svc.cluster.local:6333/collections"#))
        #expect(plan.printed.contains(#"export QDRANT_API_KEY="$(kubectl get secret -n team c-conn-credential -o jsonpath='{.data.apiKey}' | base64 -d)""#))
        let forwarded = try ClusterConnection.plan(Self.source("qdrant", credential), host: "127.0.0.1")
        #expect(forwarded.printed.contains("http://127.0.0.1:6333/collections"))
    }

    @Test func aMissingCredentialOrEngineIsNamed() {
        #expect { try ClusterConnection.plan(Self.source("qdrant", ["host": "h"])) } throws: {
            "\($0)".contains("Secret team/c-conn-credential has no \"apiKey\"")
        }
        #expect { try ClusterConnection.plan(Self.source("milvus", [:])) } throws: { "\($0)".contains("it knows pgvector and qdrant") }
        #expect(ClusterConnection.shellQuoted("it's") == #"'it'\''s'"#)
        #expect(ClusterConnection.shellQuoted("--set=x") == "--set=x")
    }

    /// The executable runs the real psql against a real PostgreSQL that demands the password, which psql can only
    /// have from its environment; `--` passes psql's own arguments.
    @Test func connectRunsPsqlWithTheSecretsPassword() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        guard let bin = ProcessInfo.processInfo.environment["VB_POSTGRES_BIN"], !bin.isEmpty else {
            throw TestSetupError("VB_POSTGRES_BIN is not set: run the tests with ./scripts/test.sh")
        }
        try await PostgresServer.with { postgres in
            try await postgres.psql("CREATE ROLE app LOGIN PASSWORD 'right-password'")
            // The superuser keeps trust (the harness's psql), everyone else must give a password over TCP.
            let hba = """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all all 127.0.0.1/32 scram-sha-256

                """
            try hba.write(toFile: postgres.dataDirectory + "/pg_hba.conf", atomically: false, encoding: .utf8)
            try await postgres.psql("SELECT pg_reload_conf()")

            try await withKubeSim { server, client in
                try await installVectorBlocksCRDs(client)
                let session = Session(client: client, namespace: "default")
                try await session.enableAddon("pgvector")
                _ = try await session.createCluster(ClusterCreation(name: "embeddings", namespace: "default", definition: "pgvector"))
                let directory = try TemporaryDirectory()
                let kubeconfig = directory.path + "/kubeconfig"
                try server.kubeconfigYAML(token: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                func setPassword(_ password: String) async throws {
                    let values = ["username": "app", "password": password, "host": "embeddings-postgresql.default.svc", "port": "5432"]
                    _ = try await client.apply(
                        CoreV1.Secret(
                            data: values.mapValues { Data($0.utf8).base64EncodedString() },
                            metadata: .init(name: "embeddings-conn-credential", namespace: "default")),
                        fieldManager: "test", force: true)
                }
                let connect = [
                    "cluster", "connect", "embeddings", "--kubeconfig", kubeconfig, "--host", "127.0.0.1", "--port", "\(postgres.port)", "--",
                    "-X", "-A", "-t", "-c", "select current_user || ' connected'",
                ]
                let environment = ["PATH": "\(bin):/usr/bin:/bin", "HOME": directory.path]

                try await setPassword("wrong-password")
                let refused = try await run(kbctl, connect, environment: environment)
                #expect(refused.status != 0 && refused.output.contains("password authentication failed for user \"app\""), "\(refused.output)")

                try await setPassword("right-password")
                let connected = try await run(kbctl, connect, environment: environment)
                #expect(connected.status == 0, "\(connected.output)")
                #expect(connected.output == "app connected\n")

                let printed = try await run(kbctl, Array(connect.prefix(9)) + ["--dry-run"] + Array(connect.dropFirst(9)), environment: environment)
                #expect(printed.status == 0, "\(printed.output)")
                #expect(!printed.output.contains("right-password"))
                #expect(
                    printed.output.hasPrefix(
                        #"PGPASSWORD="$(kubectl get secret -n default embeddings-conn-credential -o jsonpath='{.data.password}' | base64 -d)" psql -h 127.0.0.1 -p "#
                            + "\(postgres.port) -U app -d postgres -X -A -t -c 'select current_user || '\\'' connected'\\'''\n"), "\(printed.output)")

                let withoutPsql = try await run(kbctl, connect, environment: ["PATH": "/nonexistent", "HOME": directory.path])
                #expect(withoutPsql.status == 1 && withoutPsql.output.contains("psql is not installed (not on PATH)"), "\(withoutPsql.output)")
                #expect(withoutPsql.output.contains("PGPASSWORD=\"$(kubectl get secret") && !withoutPsql.output.contains("right-password"))
            }
        }
    }
}
