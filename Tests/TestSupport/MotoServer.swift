import Foundation

#if canImport(Glibc)
import Glibc
import ProcessSpawning
#endif

/// moto_server (VB_MOTO_SERVER, installed by scripts/test.sh) on a free port on 127.0.0.1: AWS's APIs (SQS, STS)
/// with real state, for the tests. Stopped on `stop()` or when released.
public final class MotoServer: Sendable {
    public let port: Int
    private let process: Process

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// `listening` 0.0.0.0 also lets KubeSim's process pods reach it, at the pod network's gateway.
    public static func start(listening host: String = "127.0.0.1") async throws -> MotoServer {
        guard let program = ProcessInfo.processInfo.environment["VB_MOTO_SERVER"], !program.isEmpty else {
            throw TestSetupError("VB_MOTO_SERVER is not set: run the tests with ./scripts/test.sh, which installs moto[server] and sets it")
        }
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw TestSetupError("VB_MOTO_SERVER=\(program) is not executable: delete .cache/venv and rerun ./scripts/test.sh")
        }
        let port = try freeLocalPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-H", host, "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try ProcessSpawner.run(process)
        let server = MotoServer(port: port, process: process)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if server.acceptsConnections() { return server }
            guard process.isRunning else { throw TestSetupError("moto_server exited with \(process.terminationStatus) before listening on \(port)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw TestSetupError("moto_server did not listen on 127.0.0.1:\(port) within 120 s")
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    private func acceptsConnections() -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    public func stop() {
        guard process.isRunning else { return }
        killProcessTree(process.processIdentifier)
        process.waitUntilExit()
    }

    deinit { stop() }
}
