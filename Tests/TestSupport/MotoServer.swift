import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A moto server (AWS's SQS, S3 and STS APIs with real state, for the tests) on a free port, forked from the test
/// process's `MotoForkServer` with empty state and listening when `start` returns. Stopped on `stop()` or when
/// released.
public final class MotoServer: Sendable {
    public let port: Int
    private let pid: pid_t

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// `listening` 0.0.0.0 also lets KubeSim's process pods reach it, at the pod network's gateway.
    public static func start(listening host: String = "127.0.0.1") async throws -> MotoServer {
        let (pid, port) = try await MotoForkServer.shared.start(host: host)
        return MotoServer(port: port, pid: pid)
    }

    private init(port: Int, pid: pid_t) {
        self.port = port
        self.pid = pid
    }

    /// Returns once the server is gone; again, at once.
    public func stop() {
        MotoForkServer.shared.stop(pid: pid)
    }

    deinit { stop() }
}
