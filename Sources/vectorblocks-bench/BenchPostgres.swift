import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One local PostgreSQL server of the failover benchmark, standing for one pod: its own data directory and port on
/// 127.0.0.1. As root it runs as `postgres` (PostgreSQL refuses root). It can be killed hard, shut down fast (a
/// pod's preStop), and brought back as a standby of another server the way the addon's setup script does it
/// (pg_rewind, standby.signal, primary_conninfo under the pod's name).
final class BenchPostgres: Sendable {
    let name: String
    let port: Int
    let directory: String
    let binDirectory: String
    private let asPostgresUser: Bool

    var dataDirectory: String { directory + "/data" }

    private init(name: String, port: Int, root: String, binDirectory: String) throws {
        self.name = name
        self.port = port
        self.directory = root + "/" + name
        self.binDirectory = binDirectory
        self.asPostgresUser = getuid() == 0
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if asPostgresUser { chown(directory, Self.postgresUID, Self.postgresGID) }
    }

    private static var postgresUID: uid_t { getpwnam("postgres")?.pointee.pw_uid ?? 0 }
    private static var postgresGID: gid_t { getpwnam("postgres")?.pointee.pw_gid ?? 0 }

    /// A new primary: initdb with trust authentication, `wal_log_hints` for pg_rewind, started.
    static func primary(name: String, port: Int, root: String, binDirectory: String) async throws -> BenchPostgres {
        let server = try BenchPostgres(name: name, port: port, root: root, binDirectory: binDirectory)
        try await server.serverTool("initdb", ["-D", server.dataDirectory, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        // In the file, not only on the command line: pg_rewind's own crash recovery reads the file (the clones copy it).
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: server.dataDirectory + "/postgresql.conf"))
        try conf.seekToEnd()
        // As the addon's postgresql.conf: WAL kept for pg_rewind and briefly absent standbys.
        try conf.write(contentsOf: Data("wal_log_hints = on\nwal_keep_size = '1GB'\n".utf8))
        try conf.close()
        try await server.start()
        return server
    }

    /// A hot standby of `primary`, cloned and streaming under its own name (the synchronous list names it so).
    static func standby(of primary: BenchPostgres, name: String, port: Int, root: String) async throws -> BenchPostgres {
        let server = try BenchPostgres(name: name, port: port, root: root, binDirectory: primary.binDirectory)
        try await server.serverTool(
            "pg_basebackup", ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", "postgres", "-D", server.dataDirectory, "-X", "stream", "--no-sync"])
        try server.follow(primary)
        try await server.start()
        return server
    }

    /// Starts the server on its data directory and waits until it accepts connections.
    func start() async throws {
        let command = [
            "\(binDirectory)/postgres", "-D", dataDirectory, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=\(directory)", "-c", "fsync=off", "-c", "max_connections=200",
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: asPostgresUser ? "/usr/sbin/runuser" : command[0])
        process.arguments = asPostgresUser ? ["-u", "postgres", "--"] + command : Array(command.dropFirst())
        let log = directory + "/postgres.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if try await Self.run("\(binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"]).status == 0 { return }
            if !process.isRunning {
                // A server killed a moment ago may still hold its shared memory: try again.
                try await Task.sleep(for: .milliseconds(300))
                return try await start()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("PostgreSQL \(name) did not accept connections on port \(port) within 120 s; see \(log)")
    }

    /// SIGKILL to the postmaster and every process under it, as a crashing container; waits until the port closes.
    func kill() async throws {
        guard let pid = postmasterPID() else { return }
        Self.killTree(pid)
        while try await Self.run("\(binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"]).status != 2
            || Glibc.kill(pid, 0) == 0
        {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A fast shutdown, as the pod's preStop hook: connected standbys receive all WAL before it stops.
    func stop() async throws {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        try await serverTool("pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60"])
    }

    /// Back as a standby of `primary`, as the setup script brings a former primary back: pg_rewind (which finishes
    /// crash recovery first), then a standby streaming under its own name.
    /// A rewind that fails (the WAL back to the divergence is gone) is followed by a fresh clone, as in the script.
    func rejoin(_ primary: BenchPostgres) async throws {
        do {
            try await serverTool(
                "pg_rewind", ["--target-pgdata=\(dataDirectory)", "--source-server=host=127.0.0.1 port=\(primary.port) user=postgres dbname=postgres"])
        } catch {
            try FileManager.default.removeItem(atPath: dataDirectory)
            try await serverTool(
                "pg_basebackup", ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", "postgres", "-D", dataDirectory, "-X", "stream", "--no-sync"])
        }
        try follow(primary)
        try await start()
    }

    @discardableResult
    func psql(_ sql: String) async throws -> String {
        let result = try await Self.run(
            "\(binDirectory)/psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-c", sql])
        guard result.status == 0 else { throw BenchError("psql on \(name) failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func follow(_ primary: BenchPostgres) throws {
        let autoConf = dataDirectory + "/postgresql.auto.conf"
        let kept = ((try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { !$0.hasPrefix("primary_conninfo") }
        let conninfo = "primary_conninfo = 'host=127.0.0.1 port=\(primary.port) user=postgres application_name=\(name)'"
        try (kept.map(String.init) + [conninfo, ""]).joined(separator: "\n").write(toFile: autoConf, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: dataDirectory + "/standby.signal", contents: nil)
        if asPostgresUser {
            chown(autoConf, Self.postgresUID, Self.postgresGID)
            chown(dataDirectory + "/standby.signal", Self.postgresUID, Self.postgresGID)
        }
    }

    private func serverTool(_ tool: String, _ arguments: [String]) async throws {
        let path = "\(binDirectory)/\(tool)"
        let result = try await asPostgresUser ? Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments) : Self.run(path, arguments)
        guard result.status == 0 else { throw BenchError("\(tool) for \(name) failed (exit \(result.status)): \(result.output)") }
    }

    private func postmasterPID() -> pid_t? {
        guard let contents = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = contents.split(separator: "\n").first
        else { return nil }
        return pid_t(first.trimmingCharacters(in: .whitespaces))
    }

    private static func killTree(_ root: pid_t) {
        for child in children(of: root) { killTree(child) }
        Glibc.kill(root, SIGKILL)
    }

    private static func children(of parent: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// Runs a program to its end without holding a thread of the cooperative pool: the output goes to a file and
    /// the exit arrives through the termination handler.
    static func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("vb-bench-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
