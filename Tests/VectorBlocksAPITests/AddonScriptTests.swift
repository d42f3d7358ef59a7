import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

/// A throw-away directory with stub programs on PATH that record how they were called, for running an addon's
/// shell script as its pod would, without Qdrant, PostgreSQL or a network.
struct ScriptSandbox {
    let root: URL
    var bin: URL { root.appendingPathComponent("bin") }
    var log: URL { root.appendingPathComponent("log") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("vb-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("log"), withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    func directory(_ name: String, containing files: [String] = []) async throws -> URL {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for file in files {
            if file.hasSuffix("/") {
                try FileManager.default.createDirectory(at: url.appendingPathComponent(file), withIntermediateDirectories: true)
            } else {
                try Data("{}".utf8).write(to: url.appendingPathComponent(file))
            }
        }
        return url
    }

    /// A program on PATH whose body is `script` (POSIX sh); `$STUB_LOG` is the log folder.
    func stub(_ name: String, _ script: String) async throws {
        let url = bin.appendingPathComponent(name)
        try Data("#!/bin/sh\n\(script)\n".utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// One line per call of a stub that logs with `echo "$@" >> "$STUB_LOG/<name>"`.
    func calls(_ name: String) -> [String] {
        guard let text = try? String(contentsOf: log.appendingPathComponent(name), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// Runs the script text with /bin/sh, PATH limited to the stubs and the system's basic tools.
    func run(script: String, environment: [String: String]) async throws -> ProcessResult {
        let file = root.appendingPathComponent("script.sh")
        try Data(script.utf8).write(to: file)
        var env = environment
        env["PATH"] = "\(bin.path):/usr/bin:/bin"
        env["STUB_LOG"] = log.path
        return try await TestSupport.run("/bin/sh", [file.path], environment: env, directory: root)
    }
}

private func shippedScript(_ addon: Addon, _ key: String) async throws -> String {
    let objects = try addon.objects()
    let text = objects.configMaps.compactMap { $0.data?[key] }.first
    return try #require(text, "\(addon.name) ships \(key) in a ConfigMap")
}

private func configFile(_ addon: Addon, _ key: String) async throws -> String {
    try await shippedScript(addon, key)
}

@Suite("The Qdrant addon's setup script")
struct QdrantSetupScriptTests {
    let headless = "vectors-qdrant-headless.default.svc.cluster.local"

    /// Runs qdrant-setup.sh as pod `ordinal` of a 3-peer cluster where `answering` peers answer on 6333.
    func start(ordinal: Int, answering: [Int], storage: [String], attempts: Int = 2, in sandbox: ScriptSandbox) async throws -> ProcessResult {
        // The fake curl answers for the listed peers only and records every request.
        try await sandbox.stub(
            "curl",
            """
            echo "$@" >> "$STUB_LOG/curl"
            for peer in $STUB_ANSWERING; do
                case "$*" in *"http://$peer."*) echo '{"result":{"status":"enabled"},"status":"ok"}'; exit 0 ;; esac
            done
            exit 7
            """)
        try await sandbox.stub("qdrant", #"echo "$@" >> "$STUB_LOG/qdrant""#)
        let data = try await sandbox.directory("storage-\(ordinal)", containing: storage)
        return try await sandbox.run(
            script: try shippedScript(.qdrant, "qdrant-setup.sh"),
            environment: [
                "VB_CLUSTER_NAME": "vectors", "VB_COMP_NAME": "qdrant", "VB_NAMESPACE": "default", "VB_REPLICA_COUNT": "3",
                "POD_NAME": "vectors-qdrant-\(ordinal)", "QDRANT__SERVICE__API_KEY": "s3cret",
                "QDRANT_STORAGE_PATH": data.path, "QDRANT_BIN": sandbox.bin.appendingPathComponent("qdrant").path,
                "QDRANT_CONFIG_PATH": "/qdrant/config-vb/config.yaml",
                "VB_JOIN_ATTEMPTS": String(attempts), "VB_JOIN_RETRY_SECONDS": "0",
                "STUB_ANSWERING": answering.map { "vectors-qdrant-\($0)" }.joined(separator: " "),
            ])
    }

    func uri(_ ordinal: Int) -> String { "http://vectors-qdrant-\(ordinal).\(headless):6335" }

    @Test("with empty storage it joins through the first peer that answers, sending the API key")
    func joinsAnsweringPeer() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 2, answering: [1], storage: ["lost+found/"], in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("qdrant") == ["--config-path /qdrant/config-vb/config.yaml --bootstrap \(uri(1)) --uri \(uri(2))"])
        let asked = sandbox.calls("curl")
        #expect(asked.count == 2, "peer 0 did not answer, peer 1 did: \(asked)")
        #expect(asked.allSatisfy { $0.contains("--header api-key: s3cret") })
        #expect(asked.last?.hasSuffix("http://vectors-qdrant-1.\(headless):6333/cluster") == true)
        #expect(!asked.contains { $0.contains("vectors-qdrant-2.") }, "a peer never asks itself")
    }

    @Test("pod 0 with empty storage joins the running cluster instead of founding a second one")
    func podZeroJoins() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 0, answering: [1, 2], storage: [], in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("qdrant") == ["--config-path /qdrant/config-vb/config.yaml --bootstrap \(uri(1)) --uri \(uri(0))"])
    }

    @Test("with empty storage and no peer answering after every attempt, it bootstraps")
    func bootstrapsAlone() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 0, answering: [], storage: ["lost+found/"], attempts: 3, in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("qdrant") == ["--config-path /qdrant/config-vb/config.yaml --uri \(uri(0))"])
        #expect(sandbox.calls("curl").count == 6, "two peers asked in each of three attempts")
        #expect(result.output.contains("bootstrapping a new cluster"))
    }

    @Test("with used storage it restarts from its consensus state and asks no peer")
    func usedStorage() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 1, answering: [0, 2], storage: ["raft_state.json", "collections/"], in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("qdrant") == ["--config-path /qdrant/config-vb/config.yaml --uri \(uri(1))"])
        #expect(sandbox.calls("curl").isEmpty)
    }

    @Test("without the component's environment it stops with a message saying what is missing")
    func missingEnvironment() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await sandbox.run(script: try shippedScript(.qdrant, "qdrant-setup.sh"), environment: ["POD_NAME": "x-0"])
        #expect(result.status != 0)
        #expect(result.output.contains("VB_CLUSTER_NAME is not set"))
    }

    @Test("the config enables cluster mode on the ports the pod exposes and keeps state on the data volume")
    func config() async throws {
        let config = try await #require(try ManifestYAML.parse(try configFile(.qdrant, "config.yaml")).first)
        #expect(config.value(at: ["cluster", "enabled"]) == true)
        #expect(config.value(at: ["cluster", "p2p", "port"]) == 6335)
        #expect(config.value(at: ["service", "http_port"]) == 6333)
        #expect(config.value(at: ["service", "grpc_port"]) == 6334)
        let definition = try Addon.qdrant.objects().definition
        let container = try #require(definition.spec.componentDefs.first?.podSpec?.containers.first)
        let dataMount = try #require(container.volumeMounts?.first { $0.name == "data" })
        #expect(config.value(at: ["storage", "storage_path"])?.stringValue == dataMount.mountPath)
        #expect(config.value(at: ["storage", "snapshots_path"])?.stringValue?.hasPrefix(dataMount.mountPath) == true)
        let writable = Set((container.volumeMounts ?? []).filter { $0.readOnly != true }.map(\.mountPath))
        #expect(writable.contains(config.value(at: ["storage", "temp_path"])?.stringValue ?? ""))
        #expect(container.securityContext?.readOnlyRootFilesystem == true)
        let initFile = try #require(container.env?.first { $0.name == "QDRANT_INIT_FILE_PATH" }?.value)
        #expect(writable.contains { initFile.hasPrefix($0 + "/") }, "the init file is on a writable volume")
        let apiKey = try #require(container.env?.first { $0.name == "QDRANT__SERVICE__API_KEY" }?.valueFrom?.secretKeyRef)
        #expect(apiKey.key == "apiKey")
        #expect(definition.spec.connectionCredential?["apiKey"] == "$(RANDOM_PASSWD)")
        #expect(container.readinessProbe?.httpGet?.path == "/readyz")
        #expect(container.livenessProbe?.httpGet?.path == "/livez")
        #expect(container.startupProbe != nil)
        #expect(container.ports?.map(\.containerPort) == [6333, 6334, 6335])
        // The Qdrant image has no curl: an init container copies one where the script's $CURL points.
        let curl = try #require(container.env?.first { $0.name == "CURL" }?.value)
        let tools = try #require(definition.spec.componentDefs.first?.podSpec?.initContainers?.first)
        #expect(tools.command?.last == curl)
        #expect(container.volumeMounts?.contains { curl.hasPrefix($0.mountPath + "/") && $0.name == "tools" } == true)
        #expect(
            try Addon.qdrant.objects().version.spec.componentVersions.first?.versionsContext.initContainers?.first?.image == "docker.io/curlimages/curl:8.11.1")
        #expect(definition.spec.componentDefs.first?.service?.ports?.map(\.port) == [6333, 6334], "Raft is never exposed")
    }
}

@Suite("The pgvector addon's setup script")
struct PgvectorSetupScriptTests {
    let primaryHost = "embeddings-postgresql-0.embeddings-postgresql-headless.default.svc.cluster.local"

    func start(
        ordinal: Int, primaryUp: Bool, initialised: Bool, standby: Bool = false, primaryPod: String? = nil, rewinds: Bool = true,
        in sandbox: ScriptSandbox
    ) async throws -> ProcessResult {
        try await sandbox.stub(
            "initdb",
            """
            echo "$@" >> "$STUB_LOG/initdb"
            for argument in "$@"; do
                case "$argument" in --pwfile=*) cat "${argument#--pwfile=}" > "$STUB_LOG/initdb-password" ;; esac
            done
            echo 17 > "$PGDATA/PG_VERSION"
            """)
        try await sandbox.stub(
            "pg_basebackup",
            """
            echo "$@" >> "$STUB_LOG/pg_basebackup"
            cat "$PGPASSFILE" > "$STUB_LOG/pg_basebackup-password"
            for argument in "$@"; do
                case "$argument" in --pgdata=*) mkdir -p "${argument#--pgdata=}"; echo 17 > "${argument#--pgdata=}/PG_VERSION" ;; esac
            done
            """)
        try await sandbox.stub(
            "pg_rewind",
            """
            echo "$@" >> "$STUB_LOG/pg_rewind"
            [ "$STUB_REWINDS" = 1 ]
            """)
        try await sandbox.stub(
            "pg_isready",
            """
            echo "$@" >> "$STUB_LOG/pg_isready"
            [ "$STUB_PRIMARY_UP" = 1 ]
            """)
        try await sandbox.stub("postgres", #"echo "$@" >> "$STUB_LOG/postgres""#)
        let data = try await sandbox.directory("data").appendingPathComponent("pgdata")
        if initialised {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try Data("17\n".utf8).write(to: data.appendingPathComponent("PG_VERSION"))
            if standby { try Data().write(to: data.appendingPathComponent("standby.signal")) }
        }
        var environment = [
            "VB_CLUSTER_NAME": "embeddings", "VB_COMP_NAME": "postgresql", "VB_NAMESPACE": "default",
            "POD_NAME": "embeddings-postgresql-\(ordinal)", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "pa55-word",
            "PGDATA": data.path, "VB_CONFIG_DIR": "/etc/postgresql/vb",
            "VB_PRIMARY_WAIT_ATTEMPTS": "2", "VB_PRIMARY_WAIT_SECONDS": "0", "STUB_PRIMARY_UP": primaryUp ? "1" : "0",
            "STUB_REWINDS": rewinds ? "1" : "0",
        ]
        environment["VB_PRIMARY_POD"] = primaryPod
        return try await sandbox.run(
            script: try shippedScript(.pgvector, "pgvector-setup.sh"), environment: environment)
    }

    func file(_ name: String, in sandbox: ScriptSandbox) -> String? {
        try? String(contentsOfFile: "\(sandbox.root.path)/data/pgdata/\(name)", encoding: .utf8)
    }

    func streamsFromPrimary(_ sandbox: ScriptSandbox, ordinal: Int, primary: String) -> Bool {
        file("standby.signal", in: sandbox) != nil
            && file("postgresql.auto.conf", in: sandbox)?.split(separator: "\n").filter { $0.hasPrefix("primary_conninfo") }
                == [
                    "primary_conninfo = 'host=\(primary) port=5432 user=postgres application_name=embeddings-postgresql-\(ordinal)'"
                ]
    }

    func postgresCall(_ sandbox: ScriptSandbox) -> String {
        "-D \(sandbox.root.path)/data/pgdata -c config_file=/etc/postgresql/vb/postgresql.conf -c hba_file=/etc/postgresql/vb/pg_hba.conf"
    }

    @Test("ordinal 0 initialises an empty data directory as primary with scram-sha-256 and the credential")
    func primaryInitialises() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 0, primaryUp: false, initialised: false, in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        let initdb = try #require(sandbox.calls("initdb").first)
        #expect(initdb.contains("--username=postgres"))
        #expect(initdb.contains("--auth-host=scram-sha-256"))
        #expect(initdb.contains("--auth-local=scram-sha-256"))
        #expect(sandbox.calls("initdb-password") == ["pa55-word"])
        #expect(sandbox.calls("pg_basebackup").isEmpty)
        #expect(sandbox.calls("postgres") == [postgresCall(sandbox)])
        #expect(!result.output.contains("pa55-word"), "the password is never printed")
    }

    @Test("other ordinals clone the primary with pg_basebackup and start as streaming standbys")
    func standbyClones() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 1, primaryUp: true, initialised: false, in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("initdb").isEmpty)
        let backup = try #require(sandbox.calls("pg_basebackup").first)
        #expect(
            backup
                == "--host=\(primaryHost) --port=5432 --username=postgres --pgdata=\(sandbox.root.path)/data/pgdata --wal-method=stream --checkpoint=fast --no-password"
        )
        // The password reaches libpq through a password file, never a connection string.
        #expect(sandbox.calls("pg_basebackup-password") == ["*:*:*:postgres:pa55-word"])
        #expect(sandbox.calls("pg_isready").first?.contains("--host=\(primaryHost)") == true)
        #expect(streamsFromPrimary(sandbox, ordinal: 1, primary: primaryHost))
        #expect(sandbox.calls("postgres") == [postgresCall(sandbox)])
    }

    @Test("the pod VB_PRIMARY_POD names starts read-write, a former standby ending its recovery; pod 0 follows it")
    func designatedPrimary() async throws {
        let promoted = try ScriptSandbox()
        defer { promoted.remove() }
        let result = try await start(
            ordinal: 1, primaryUp: false, initialised: true, standby: true, primaryPod: "embeddings-postgresql-1", in: promoted)
        #expect(result.status == 0, "\(result.output)")
        #expect(file("standby.signal", in: promoted) == nil)
        #expect(promoted.calls("pg_basebackup").isEmpty)
        #expect(promoted.calls("postgres") == [postgresCall(promoted)])

        let follower = try ScriptSandbox()
        defer { follower.remove() }
        let following = try await start(
            ordinal: 0, primaryUp: true, initialised: false, primaryPod: "embeddings-postgresql-1", in: follower)
        #expect(following.status == 0, "\(following.output)")
        #expect(follower.calls("initdb").isEmpty, "pod 0 is not the primary: it never initialises a second database")
        let newPrimary = "embeddings-postgresql-1.embeddings-postgresql-headless.default.svc.cluster.local"
        #expect(follower.calls("pg_basebackup").first?.contains("--host=\(newPrimary)") == true)
        #expect(streamsFromPrimary(follower, ordinal: 0, primary: newPrimary))
    }

    @Test("a former primary rewinds onto the new primary's timeline and follows it")
    func formerPrimaryRewinds() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let newPrimary = "embeddings-postgresql-1.embeddings-postgresql-headless.default.svc.cluster.local"
        let result = try await start(
            ordinal: 0, primaryUp: true, initialised: true, primaryPod: "embeddings-postgresql-1", in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(
            sandbox.calls("pg_rewind")
                == [
                    "--target-pgdata=\(sandbox.root.path)/data/pgdata --progress --source-server=host=\(newPrimary) port=5432 user=postgres dbname=postgres"
                ])
        #expect(sandbox.calls("pg_basebackup").isEmpty)
        #expect(streamsFromPrimary(sandbox, ordinal: 0, primary: newPrimary))
    }

    @Test("when the rewind fails the diverged directory is kept aside and the primary cloned afresh")
    func failedRewindClones() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(
            ordinal: 0, primaryUp: true, initialised: true, primaryPod: "embeddings-postgresql-1", rewinds: false, in: sandbox)
        #expect(result.status == 0, "\(result.output)")
        #expect(sandbox.calls("pg_basebackup").count == 1)
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.root.path)/data").filter { $0.hasPrefix("pgdata.diverged-") }
        #expect(kept.count == 1, "nothing is deleted: the diverged data stays beside the new clone")
        #expect(streamsFromPrimary(sandbox, ordinal: 0, primary: "embeddings-postgresql-1.embeddings-postgresql-headless.default.svc.cluster.local"))
    }

    @Test("a standby whose primary never answers stops with a message instead of initialising its own database")
    func standbyWithoutPrimary() async throws {
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let result = try await start(ordinal: 2, primaryUp: false, initialised: false, in: sandbox)
        #expect(result.status != 0)
        #expect(result.output.contains("did not answer after 2 attempts"))
        #expect(sandbox.calls("pg_isready").count == 2)
        #expect(sandbox.calls("initdb").isEmpty)
        #expect(sandbox.calls("postgres").isEmpty)
    }

    @Test("an initialised primary or standby restarts without initialising, cloning or rewinding")
    func restart() async throws {
        for ordinal in [0, 1] {
            let sandbox = try ScriptSandbox()
            defer { sandbox.remove() }
            let result = try await start(ordinal: ordinal, primaryUp: true, initialised: true, standby: ordinal == 1, in: sandbox)
            #expect(result.status == 0, "\(result.output)")
            #expect(sandbox.calls("initdb").isEmpty)
            #expect(sandbox.calls("pg_basebackup").isEmpty)
            #expect(sandbox.calls("pg_rewind").isEmpty)
            #expect(sandbox.calls("postgres") == [postgresCall(sandbox)])
        }
    }

    /// The restore phase (the operator's `restore` init container) with stubs that record any call; the full restore
    /// runs on process pods in PgvectorBackupOnProcessPodsTests.
    func restorePhase(ordinal: Int, pending: Bool, data files: [String]?, in sandbox: ScriptSandbox) async throws -> ProcessResult {
        for program in ["vectorblocks-backup", "pg_ctl", "postgres", "initdb", "pg_basebackup", "psql"] {
            try await sandbox.stub(program, "echo \"$@\" >> \"$STUB_LOG/\(program)\"")
        }
        let data = try await sandbox.directory("data").appendingPathComponent("pgdata")
        if let files {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            for file in files { try Data("17\n".utf8).write(to: data.appendingPathComponent(file)) }
        }
        var environment = [
            "VB_CLUSTER_NAME": "embeddings", "VB_COMP_NAME": "postgresql", "VB_NAMESPACE": "default",
            "POD_NAME": "embeddings-postgresql-\(ordinal)", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "pa55-word",
            "PGDATA": data.path, "VB_CONFIG_DIR": "/etc/postgresql/vb", "VB_SETUP_PHASE": "restore",
            "VB_RESTORE_TOOL": sandbox.bin.appendingPathComponent("vectorblocks-backup").path, "VB_RESTORE_BUCKET": "backups",
            "VB_RESTORE_REGION": "eu-west-1", "VB_RESTORE_BACKUP_PREFIX": "pg/default/vectors/nightly/",
        ]
        if pending { environment["VB_RESTORE_PENDING"] = "true" }
        return try await sandbox.run(script: try shippedScript(.pgvector, "pgvector-setup.sh"), environment: environment)
    }

    @Test("the restore phase does nothing unless it is pending, on the designated primary, with an empty data directory, and refuses stray files")
    func restorePhaseLeavesOthersAlone() async throws {
        for (ordinal, pending, files) in [(0, false, nil), (1, true, nil), (0, true, ["PG_VERSION"])] as [(Int, Bool, [String]?)] {
            let sandbox = try ScriptSandbox()
            defer { sandbox.remove() }
            let result = try await restorePhase(ordinal: ordinal, pending: pending, data: files, in: sandbox)
            #expect(result.status == 0, "\(result.output)")
            for program in ["vectorblocks-backup", "pg_ctl", "postgres", "initdb", "pg_basebackup"] {
                #expect(sandbox.calls(program).isEmpty, "\(program) ran: \(result.output)")
            }
        }
        // Files without PG_VERSION are someone's: the restore fills only an empty data directory.
        let sandbox = try ScriptSandbox()
        defer { sandbox.remove() }
        let refused = try await restorePhase(ordinal: 0, pending: true, data: ["stray"], in: sandbox)
        #expect(refused.status != 0)
        #expect(refused.output.contains("holds files but no PG_VERSION"), "\(refused.output)")
        #expect(sandbox.calls("vectorblocks-backup").isEmpty)
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.root.path)/data/pgdata/stray"))
    }

    @Test("the config: scram-sha-256 for every connection, replication on, readiness by pg_isready")
    func config() async throws {
        let hba = try await configFile(.pgvector, "pg_hba.conf").split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!hba.isEmpty)
        #expect(hba.allSatisfy { $0.hasSuffix("scram-sha-256") }, "no trust or md5 lines: \(hba)")
        #expect(hba.contains { $0.contains("replication") })
        let conf = try await configFile(.pgvector, "postgresql.conf")
        #expect(conf.contains("password_encryption = 'scram-sha-256'"))
        #expect(conf.contains("wal_level = 'replica'"))
        #expect(conf.contains("hot_standby = on"))
        let definition = try Addon.pgvector.objects().definition
        let component = try #require(definition.spec.componentDefs.first)
        #expect(component.workloadType == .replication)
        let container = try #require(component.podSpec?.containers.first)
        #expect(container.readinessProbe?.exec?.command?.first == "pg_isready")
        #expect(container.volumeMounts?.contains { $0.name == "data" } == true)
        #expect(component.volumeTypes == [VolumeTypeSpec(name: "data", type: .data)])
        #expect(
            try Addon.pgvector.objects().version.spec.componentVersions.first?.versionsContext.containers?.first?.image == "docker.io/pgvector/pgvector:pg17")
    }
}
