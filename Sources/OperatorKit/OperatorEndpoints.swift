import Hummingbird
import Logging
import OperationalHTTP
import Prometheus

/// The operator's own HTTP endpoints, as controller-runtime's manager serves them on two addresses: metrics
/// (`/metrics`) and health probes (`/healthz`: every liveness check passes, which for the operator means no
/// reconcile hangs and no informer has stalled; `/readyz`: every readiness check passes, which for the operator means
/// its caches have synced).
public enum OperatorEndpoints {
    public typealias Check = @Sendable () async -> Bool

    public static func metrics(
        host: String, port: Int, registry: PrometheusCollectorRegistry,
        logger: Logger = Logger(label: "operatorkit.metrics"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        OperationalEndpoints.application(
            host: host, port: port, metrics: registry, probes: [], logger: logger, onServerRunning: onServerRunning)
    }

    public static func health(
        host: String, port: Int, readinessChecks: [String: Check], livenessChecks: [String: Check] = [:],
        logger: Logger = Logger(label: "operatorkit.health"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        OperationalEndpoints.application(
            host: host, port: port, metrics: nil,
            probes: [
                .init(path: "/healthz", failingStatus: .internalServerError, failingWord: "unhealthy", checks: named(livenessChecks)),
                .init(path: "/readyz", failingStatus: .serviceUnavailable, failingWord: "not ready", checks: named(readinessChecks)),
            ],
            logger: logger, onServerRunning: onServerRunning)
    }

    private static func named(_ checks: [String: Check]) -> [OperationalEndpoints.Check] {
        checks.sorted { $0.key < $1.key }.map { name, check in
            OperationalEndpoints.Check(name) { await check() ? nil : "failing" }
        }
    }
}
