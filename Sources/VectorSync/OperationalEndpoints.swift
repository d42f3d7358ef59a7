import Hummingbird
import Logging
import NIOCore
import Prometheus

/// Pelican's and Emu's HTTP endpoints: `/metrics` (Prometheus text format) and `/healthz`, which fails (503, with
/// the reason) while `problem` reports one, e.g. the database connection or the LISTEN connection is lost. A
/// swift-service-lifecycle Service: run it in the process's ServiceGroup.
public enum OperationalEndpoints {
    public static func application(
        host: String, port: Int, registry: PrometheusCollectorRegistry, problem: @escaping @Sendable () async -> String?,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in
            if let problem = await problem() {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "unhealthy: \(problem)\n")))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
