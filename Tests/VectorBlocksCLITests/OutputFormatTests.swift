import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI

/// Every kbctl command in every `-o` format, through the executable against KubeSim with fixed inputs: what it gives
/// is compared with the goldens in Tests/VectorBlocksCLITests/Golden/kbctl/ (one file a command; regenerate them with
/// VB_UPDATE_GOLDEN=1 after a deliberate change, and review the diff), what it cannot give is refused with exit 1
/// and a message naming -o and the formats it gives.
@Suite("kbctl -o")
struct OutputFormatTests {
    @Test("every command, every format: golden output or a refusal naming the flag")
    func everyCommandInEveryFormat() async throws {
        let kbctl = try BuiltProduct.path("kbctl")
        try await withKubeSim { server, client in
            let directory = try TemporaryDirectory()
            let kubeconfig = directory.path + "/kubeconfig"
            try server.kubeconfigYAML(token: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let transcript = Transcript(kbctl: kbctl, kubeconfig: kubeconfig)

            try await transcript.everyFormat(.install)
            try await transcript.everyFormat(.addonEnable, ["qdrant"])
            try await transcript.run(.addonEnable, ["pgvector"], .table)
            try await transcript.everyFormat(.addonList)

            // Creations and deletions of a scratch cluster, once for each format.
            for format in OutputFormat.allCases {
                try await transcript.run(.clusterCreate, ["scratch", "--cluster-definition", "qdrant", "--termination-policy", "Delete"], format)
                _ = try? await client.delete(Cluster.self, name: "scratch", namespace: "default")
            }
            for format in OutputFormat.allCases {
                try await transcript.run(.clusterCreate, ["scratch", "--cluster-definition", "qdrant"], .table, recorded: false)
                try await transcript.run(.clusterDelete, ["scratch"], format)
                _ = try? await client.delete(Cluster.self, name: "scratch", namespace: "default")
            }
            try await transcript.run(.clusterCreate, ["vectors", "--cluster-definition", "qdrant", "--replicas", "3"], .table)
            try await transcript.run(
                .clusterCreate, ["embeddings", "--cluster-definition", "pgvector", "--replicas", "2", "--cpu", "1", "--memory", "2Gi"], .table)
            try await transcript.everyFormat(.clusterList)
            try await transcript.everyFormat(.clusterDescribe, ["vectors"])

            try await Self.makeCredentials(client)
            try await transcript.everyFormat(.clusterConnect, ["embeddings", "--dry-run"])
            try await transcript.run(.clusterConnect, ["vectors"], .table)

            try await transcript.everyFormat(.clusterHScale, ["vectors", "--components", "qdrant", "--replicas", "5"])
            try await transcript.everyFormat(.clusterVScale, ["embeddings", "--cpu", "2", "--memory", "4Gi"])
            try await transcript.everyFormat(.clusterVolumeExpand, ["vectors", "--storage", "40Gi"])
            try await transcript.everyFormat(.clusterRestart, ["vectors"])
            try await transcript.everyFormat(.clusterStop, ["embeddings"])
            try await transcript.everyFormat(.clusterStart, ["embeddings"])
            try await transcript.everyFormat(.clusterExpose, ["vectors", "--type", "vpc", "--enable", "true", "--source-ranges", "10.0.0.0/8"])
            try await transcript.everyFormat(.clusterUpgrade, ["vectors", "--cluster-version", "qdrant-1.12.5"])
            try await transcript.everyFormat(.clusterPromote, ["embeddings", "--instance", "embeddings-postgresql-1"])
            try await transcript.everyFormat(.clusterListOps, ["vectors"])

            try await Self.makeEvents(client)
            try await transcript.everyFormat(.clusterListEvents, ["vectors"])

            try await Self.makeBackupRepository(client)
            for format in OutputFormat.allCases {
                try await transcript.run(.clusterBackup, ["vectors", "--backup-name", "vectors-\(format.rawValue)"], format)
            }
            try await Self.complete("vectors-table", client)
            try await transcript.everyFormat(.clusterListBackups, ["vectors"])
            for format in OutputFormat.allCases {
                try await transcript.run(.clusterRestore, ["copy-\(format.rawValue)", "--backup", "vectors-table"], format)
                _ = try? await client.delete(Cluster.self, name: "copy-\(format.rawValue)", namespace: "default")
            }
            for format in OutputFormat.allCases {
                try await transcript.run(.clusterBackup, ["vectors", "--backup-name", "scratch"], .table, recorded: false)
                try await transcript.run(.clusterDeleteBackup, ["scratch"], format)
                _ = try? await client.delete(Backup.self, name: "scratch", namespace: "default")
            }

            let pipeline = [
                "--source-secret", "app-database:uri", "--table", "public.documents", "--primary-key", "id", "--text-template", "{title}: {body}",
                "--payload-column", "title", "--qdrant-cluster", "vectors",
            ]
            for format in OutputFormat.allCases {
                try await transcript.run(.pipelineCreate, ["scratch"] + pipeline, format)
                _ = try? await client.delete(VectorPipeline.self, name: "scratch", namespace: "default")
            }
            for format in OutputFormat.allCases {
                try await transcript.run(.pipelineCreate, ["scratch"] + pipeline, .table, recorded: false)
                try await transcript.run(.pipelineDelete, ["scratch"], format)
                _ = try? await client.delete(VectorPipeline.self, name: "scratch", namespace: "default")
            }
            try await transcript.run(.pipelineCreate, ["documents"] + pipeline, .table)
            try await transcript.everyFormat(.pipelineList)
            try await transcript.everyFormat(.pipelineDescribe, ["documents"])

            for name in ["vectors", "embeddings"] { try await client.delete(Cluster.self, name: name, namespace: "default") }
            try await transcript.run(.addonDisable, ["qdrant"], .table)
            for format in OutputFormat.allCases where format != .table {
                try await transcript.run(.addonEnable, ["qdrant"], .table, recorded: false)
                try await transcript.run(.addonDisable, ["qdrant"], format)
            }
            for format in OutputFormat.allCases {
                try await transcript.run(.install, [], .table, recorded: false)
                try await transcript.run(.uninstall, [], format)
            }

            let covered = await transcript.covered
            for command in KbctlCommand.allCases {
                #expect(covered[command] == Set(OutputFormat.allCases), "kbctl \(command.rawValue) was not run in every format")
            }
            for (command, text) in await transcript.texts {
                try expectGolden(text, "Tests/VectorBlocksCLITests/Golden/kbctl/\(command.rawValue.replacingOccurrences(of: " ", with: "-")).txt")
            }
        }
    }

    /// The conn-credential Secrets the operator would make, with fixed values.
    static func makeCredentials(_ client: KubeClient) async throws {
        let credentials = [
            "vectors": [
                "username": "qdrant", "password": "qdrant-secret-value", "apiKey": "qdrant-secret-value",
                "endpoint": "http://vectors-qdrant.default.svc.cluster.local:6333", "host": "vectors-qdrant.default.svc.cluster.local", "port": "6333",
            ],
            "embeddings": [
                "username": "postgres", "password": "postgres-secret-value", "host": "embeddings-postgresql.default.svc.cluster.local",
                "port": "5432",
            ],
        ]
        for (cluster, values) in credentials {
            _ = try await client.create(
                CoreV1.Secret(
                    data: values.mapValues { Data($0.utf8).base64EncodedString() },
                    metadata: .init(labels: ["app.kubernetes.io/instance": cluster], name: "\(cluster)-conn-credential", namespace: "default")))
        }
    }

    /// A backup repository for `vectors` (no schedule: `enabled: false`).
    static func makeBackupRepository(_ client: KubeClient) async throws {
        var cluster = try await client.get(Cluster.self, name: "vectors", namespace: "default")
        cluster.spec.backup = ClusterBackup(
            enabled: false, method: .qdrantSnapshot, cronExpression: "0 3 * * *",
            repository: BackupRepository(bucket: "vb-backups", prefix: "prod", region: "eu-west-1"))
        _ = try await client.update(cluster)
    }

    /// The Backup as the operator would leave it once done, with fixed values.
    static func complete(_ name: String, _ client: KubeClient) async throws {
        var backup = try await client.get(Backup.self, name: name, namespace: "default")
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        backup.status = BackupStatus(
            phase: .completed, startTimestamp: MetaV1.Time(start), completionTimestamp: MetaV1.Time(start.addingTimeInterval(42)),
            totalSize: 7_340_032, repository: backup.spec.repository, path: "prod/default/vectors/\(name)/",
            collections: [BackupCollection(name: "documents", shards: 3, replicationFactor: 2, points: 240)])
        _ = try await client.updateStatus(backup)
    }

    /// Events about the Cluster `vectors` and one of its pods, at fixed times.
    static func makeEvents(_ client: KubeClient) async throws {
        let cluster = try await client.get(Cluster.self, name: "vectors", namespace: "default")
        let pod = try await client.create(
            CoreV1.Pod(
                metadata: .init(labels: ["app.kubernetes.io/instance": "vectors"], name: "vectors-qdrant-0", namespace: "default"),
                spec: .init(containers: [.init(image: "qdrant/qdrant:v1.12.5", name: "qdrant")])))
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let events: [(String, CoreV1.ObjectReference, String, String)] = [
            (
                "vectors.1", .init(kind: "Cluster", name: "vectors", namespace: "default", uid: cluster.metadata?.uid), "Creating",
                "creating the cluster's objects"
            ),
            (
                "vectors-qdrant-0.1", .init(kind: "Pod", name: "vectors-qdrant-0", namespace: "default", uid: pod.metadata?.uid), "Scheduled",
                "assigned to kube-sim-worker-1"
            ),
        ]
        for (offset, (name, object, reason, message)) in events.enumerated() {
            let time = MetaV1.Time(start.addingTimeInterval(Double(offset) * 60))
            _ = try await client.create(
                CoreV1.Event(
                    count: 1, firstTimestamp: time, involvedObject: object, lastTimestamp: time, message: message,
                    metadata: .init(name: name, namespace: "default"), reason: reason, source: .init(component: "vectorblocks-operator"), type: "Normal"))
        }
    }
}

/// What kbctl printed, command by command, with what varies from run to run (uids, resource versions, times,
/// OpsRequest names' random suffixes) replaced by fixed text.
actor Transcript {
    let kbctl: String
    let kubeconfig: String
    private(set) var texts: [KbctlCommand: String] = [:]
    private(set) var covered: [KbctlCommand: Set<OutputFormat>] = [:]

    init(kbctl: String, kubeconfig: String) {
        self.kbctl = kbctl
        self.kubeconfig = kubeconfig
    }

    func everyFormat(_ command: KbctlCommand, _ arguments: [String] = []) async throws {
        for format in OutputFormat.allCases { try await run(command, arguments, format) }
    }

    /// Runs `kbctl <command> <arguments> -o <format>`; a format the command gives must succeed with parseable output,
    /// any other must be refused before anything happens.
    func run(_ command: KbctlCommand, _ arguments: [String], _ format: OutputFormat, recorded: Bool = true) async throws {
        let words = command.rawValue.split(separator: " ").map(String.init) + arguments + ["-o", format.rawValue, "--kubeconfig", kubeconfig]
        let result = try await TestSupport.run(kbctl, words, environment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"])
        let accepted = command.formats.contains(format)
        if accepted {
            #expect(result.status == 0, "kbctl \(words.joined(separator: " ")): \(result.output)")
            Self.checkParseable(result.output, format: format)
        } else {
            #expect(result.status == 1, "kbctl \(words.joined(separator: " ")) should be refused: \(result.output)")
            #expect(result.output.contains("-o/--output \(format.rawValue): kbctl \(command.rawValue) gives only"), "\(result.output)")
        }
        guard recorded else { return }
        covered[command, default: []].insert(format)
        let shown = (command.rawValue.split(separator: " ").map(String.init) + arguments + ["-o", format.rawValue]).joined(separator: " ")
        texts[command, default: ""] += "$ kbctl \(shown)\n\(Self.normalised(result.output))" + (result.status == 0 ? "" : "[exit \(result.status)]\n") + "\n"
    }

    static func checkParseable(_ output: String, format: OutputFormat) {
        switch format {
        case .json:
            let document = try? JSONDecoder().decode(JSONValue.self, from: Data(output.utf8))
            #expect(document?["kind"]?.stringValue != nil, "not a Kubernetes JSON object: \(output)")
        case .yaml:
            #expect(output.contains("\nkind: ") || output.hasPrefix("kind: ") || output.contains("\nkind: List"), "\(output)")
        case .name:
            for line in output.split(separator: "\n") {
                #expect(line.wholeMatch(of: /[a-z0-9.]+\/[a-z0-9.-]+/) != nil, "not kind.group/name: \(line)")
            }
        case .table, .wide:
            break
        }
    }

    static func normalised(_ text: String) -> String {
        var text = text.withFixedTimes
        let replacements: [(String, String)] = [
            (#"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, "00000000-0000-0000-0000-000000000000"),
            (#"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"#, "2026-01-01T00:00:00Z"),
            (#"(resourceVersion"?: *)"\d+""#, "$1\"1\""),
            (#"(resourceVersion: *)'\d+'"#, "$1'1'"),
            (
                #"(-(horizontalscaling|verticalscaling|volumeexpansion|restart|stop|start|expose|upgrade|switchover))-[bcdfghjklmnpqrstvwxz2456789]{5}\b"#,
                "$1-xxxxx"
            ),
        ]
        for (pattern, replacement) in replacements {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }
}
