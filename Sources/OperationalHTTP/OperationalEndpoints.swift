import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The HTTP endpoints every VectorBlocks process serves for the platform: `/metrics` in Prometheus' text format and
/// probe paths (`/healthz`, `/readyz`) that answer 200 `ok` while every check passes and name the failing ones
/// otherwise. Each application is a swift-service-lifecycle Service: run it in the process's ServiceGroup so it
/// stops gracefully with the rest.
public enum OperationalEndpoints {
    /// A named check: nil while it passes, else why it fails (no secret: the answer is unauthenticated).
    public struct Check: Sendable {
        public var name: String
        public var problem: @Sendable () async -> String?

        public init(_ name: String, problem: @escaping @Sendable () async -> String?) {
            self.name = name
            self.problem = problem
        }
    }

    /// A probe path, the status it answers with while a check fails, and the word its failure text starts with.
    public struct Probe: Sendable {
        public var path: String
        public var failingStatus: HTTPResponse.Status
        public var failingWord: String
        public var checks: [Check]

        public init(path: String, failingStatus: HTTPResponse.Status, failingWord: String, checks: [Check]) {
            self.path = path
            self.failingStatus = failingStatus
            self.failingWord = failingWord
            self.checks = checks
        }
    }

    /// One listener serving `/metrics` from `registry` (when given) and every probe.
    public static func application(
        host: String, port: Int, metrics registry: PrometheusCollectorRegistry?, probes: [Probe], logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        if let registry {
            router.get("/metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
        }
        for probe in probes {
            router.get(RouterPath(probe.path)) { _, _ in await answer(probe) }
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// `/metrics` and a `/healthz` that answers 503 while `problem` reports one, on one listener: what a pipeline
    /// process (Pelican, Emu) serves.
    public static func metricsAndHealth(
        host: String, port: Int, registry: PrometheusCollectorRegistry, problem: @escaping @Sendable () async -> String?,
        logger: Logger
    ) -> some ApplicationProtocol {
        application(
            host: host, port: port, metrics: registry,
            probes: [.init(path: "/healthz", failingStatus: .serviceUnavailable, failingWord: "unhealthy", checks: [Check("pipeline", problem: problem)])],
            logger: logger)
    }

    private static func answer(_ probe: Probe) async -> Response {
        var failing: [String] = []
        for check in probe.checks {
            if let problem = await check.problem() { failing.append("\(check.name) (\(problem))") }
        }
        guard failing.isEmpty else {
            return Response(
                status: probe.failingStatus, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "\(probe.failingWord): \(failing.joined(separator: ", "))\n")))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }
}
