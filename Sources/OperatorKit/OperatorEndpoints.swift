import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The operator's own HTTP endpoints, as controller-runtime's manager serves them: `/metrics` in the Prometheus text
/// format, `/healthz` (the process is alive and serving) and `/readyz` (every readiness check passes; the operator
/// is ready once its caches have synced). The result is a swift-service-lifecycle Service: run it in the operator's
/// ServiceGroup so it stops gracefully with the rest.
public enum OperatorEndpoints {
    public typealias Check = @Sendable () async -> Bool

    public static func application(
        host: String, port: Int, registry: PrometheusCollectorRegistry, readinessChecks: [String: Check],
        logger: Logger = Logger(label: "operatorkit.endpoints"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in "ok" }
        router.get("/readyz") { _, _ in
            var failing: [String] = []
            for (name, check) in readinessChecks.sorted(by: { $0.key < $1.key }) where !(await check()) {
                failing.append(name)
            }
            guard failing.isEmpty else {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "not ready: \(failing.joined(separator: ", "))\n")))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
