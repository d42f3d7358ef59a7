import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The operator's own HTTP endpoints, as controller-runtime's manager serves them on two addresses: metrics
/// (`/metrics`, Prometheus text format) and health probes (`/healthz`: every liveness check passes, which for the
/// operator means no reconcile hangs and no informer has stalled; `/readyz`: every readiness check passes, which for
/// the operator means its caches have synced). Each is a swift-service-lifecycle Service:
/// run them in the operator's ServiceGroup so they stop gracefully with the rest.
public enum OperatorEndpoints {
    public typealias Check = @Sendable () async -> Bool

    public static func metrics(
        host: String, port: Int, registry: PrometheusCollectorRegistry,
        logger: Logger = Logger(label: "operatorkit.metrics"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return application(router, host: host, port: port, logger: logger, onServerRunning: onServerRunning)
    }

    public static func health(
        host: String, port: Int, readinessChecks: [String: Check], livenessChecks: [String: Check] = [:],
        logger: Logger = Logger(label: "operatorkit.health"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in await answer(livenessChecks, failing: .internalServerError, "unhealthy") }
        router.get("/readyz") { _, _ in await answer(readinessChecks, failing: .serviceUnavailable, "not ready") }
        return application(router, host: host, port: port, logger: logger, onServerRunning: onServerRunning)
    }

    /// 200 `ok` when every check passes, else `status` naming the failing checks.
    private static func answer(_ checks: [String: Check], failing status: HTTPResponse.Status, _ what: String) async -> Response {
        var failing: [String] = []
        for (name, check) in checks.sorted(by: { $0.key < $1.key }) where !(await check()) {
            failing.append(name)
        }
        guard failing.isEmpty else {
            return Response(
                status: status, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "\(what): \(failing.joined(separator: ", "))\n")))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }

    private static func application(
        _ router: Router<BasicRequestContext>, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
