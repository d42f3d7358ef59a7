import Foundation
import ProcessSpawning

/// Starting a server's data directory the way a pgvector pod's container does: through the addon's setup script,
/// with the pod's environment, so the script itself decides whether to start read-write, clone, rewind or follow.
extension PostgresServer {
    /// Runs `script` (the addon's `pgvector-setup.sh`) for this server's data directory with `environment` (the
    /// pod's: its env ConfigMap, POD_NAME, the credential) and `postgresqlConf` (the addon's, with this server's port
    /// and socket directory put in), and waits until the server it starts accepts connections. The script runs with
    /// only the PostgreSQL binaries and the system's tools on PATH, as in the image.
    public func startWithSetupScript(_ script: String, postgresqlConf: String, environment: [String: String]) async throws -> SetupScriptRun {
        let configDirectory = directory.path + "/config"
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        let conf = postgresqlConf.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            // The pod has its own network and socket directory; a test's servers share the host's.
            if line.hasPrefix("port ") { return "port = \(port)" }
            if line.hasPrefix("listen_addresses ") { return "listen_addresses = '127.0.0.1'" }
            if line.hasPrefix("unix_socket_directories ") { return "unix_socket_directories = '\(directory.path)'" }
            return String(line)
        }.joined(separator: "\n")
        try conf.write(toFile: configDirectory + "/postgresql.conf", atomically: true, encoding: .utf8)
        // The test's servers were made with trust authentication and no password.
        try "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
            .write(toFile: configDirectory + "/pg_hba.conf", atomically: true, encoding: .utf8)
        let scriptFile = configDirectory + "/pgvector-setup.sh"
        try script.write(toFile: scriptFile, atomically: true, encoding: .utf8)

        var variables = environment
        variables["PGDATA"] = dataDirectory
        variables["VB_CONFIG_DIR"] = configDirectory
        variables["PATH"] = "\(binDirectory):/usr/sbin:/usr/bin:/sbin:/bin"
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let command = ["/usr/bin/env", "-i"] + assignments + ["/bin/sh", scriptFile]
        let logFile = directory.path + "/setup-script.log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runsAsPostgresUser ? "/usr/sbin/runuser" : command[0])
        process.arguments = runsAsPostgresUser ? ["-u", "postgres", "--"] + command : Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try ProcessSpawner.run(process)
        let started = SetupScriptRun(process: process, logFile: logFile)
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            let ready = try await run("\(binDirectory)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres"])
            if ready.status == 0 { return started }
            guard process.isRunning else {
                throw TestSetupError(
                    "the setup script exited (\(process.terminationStatus)) before PostgreSQL accepted connections; it printed:\n\(started.output)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("PostgreSQL started by the setup script did not accept connections within 180 s; the script printed:\n\(started.output)")
    }
}

/// A setup script that became the server (it ends in `exec postgres`).
public final class SetupScriptRun: Sendable {
    private let process: Process
    private let logFile: String

    init(process: Process, logFile: String) {
        self.process = process
        self.logFile = logFile
    }

    /// What the script and the server printed so far.
    public var output: String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }
}
