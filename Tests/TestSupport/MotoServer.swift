import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A moto server (AWS's SQS, S3 and STS APIs with real state, for the tests) on a free port, forked from the test
/// process's `MotoForkServer` with empty state. Stopped on `stop()` or when released.
public final class MotoServer: Sendable {
    public let port: Int
    private let pid: pid_t
    private let stopped = Mutex(false)

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// `listening` 0.0.0.0 also lets KubeSim's process pods reach it, at the pod network's gateway.
    public static func start(listening host: String = "127.0.0.1") async throws -> MotoServer {
        let port = try freeLocalPort()
        let server = MotoServer(port: port, pid: try await MotoForkServer.shared.fork(host: host, port: port))
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if server.acceptsConnections() { return server }
            guard server.isRunning else { throw TestSetupError("moto (pid \(server.pid)) exited before listening on \(port)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw TestSetupError("moto did not listen on \(host):\(port) within 120 s")
    }

    private init(port: Int, pid: pid_t) {
        self.port = port
        self.pid = pid
    }

    /// Still the fork server's child: a pid the kernel gave to another process after this one ended is not it.
    private var isRunning: Bool {
        guard let forkServer = MotoForkServer.shared.pid,
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return false }
        let fields = stat[afterName.upperBound...].split(separator: " ")
        return fields.count > 1 && fields[0] != "Z" && pid_t(fields[1]) == forkServer
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
        let stoppedBefore = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !stoppedBefore, isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        // The fork server lets the kernel reap its children, so the pid goes as soon as the process has.
        var waited = 0
        while isRunning, waited < 500 {
            usleep(10_000)
            waited += 1
        }
    }

    deinit { stop() }
}
