import AsyncHTTPClient
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

@testable import OperatorKit

private actor Flag {
    var value = false
    func set() { value = true }
}

@Suite("Operator endpoints")
struct OperatorEndpointsTests {
    @Test func metricsHealthAndReadinessOnceCachesSync() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let queue = WorkQueue<String>(name: "cluster", metricsFactory: factory)
        await queue.add("default/orders")
        await queue.addRateLimited("default/orders")

        let synced = Flag()
        let hung = Flag()
        let (ports, portContinuation) = AsyncStream<(String, Int)>.makeStream()
        let metricsApplication = OperatorEndpoints.metrics(
            host: "127.0.0.1", port: 0, registry: registry, onServerRunning: { portContinuation.yield(("metrics", $0)) })
        let healthApplication = OperatorEndpoints.health(
            host: "127.0.0.1", port: 0, readinessChecks: ["informers": { await synced.value }],
            livenessChecks: ["controllers": { await !hung.value }],
            onServerRunning: { portContinuation.yield(("health", $0)) })
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [metricsApplication, healthApplication], logger: logger)
        let running = Task { try await group.run() }
        var bound: [String: Int] = [:]
        for await (name, port) in ports {
            bound[name] = port
            if bound.count == 2 { break }
        }
        let metricsPort = try #require(bound["metrics"])
        let healthPort = try #require(bound["health"])

        func get(_ path: String) async throws -> (Int, String) {
            let port = path == "/metrics" ? metricsPort : healthPort
            let url = "http://127.0.0.1:\(port)" + path
            // Generous: the whole suite shares two cores, and this only guards against a hang.
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: body))
        }

        #expect(try await get("/healthz").0 == 200)
        let notReady = try await get("/readyz")
        #expect(notReady.0 == 503)
        #expect(notReady.1.contains("informers"))
        await synced.set()
        #expect(try await get("/readyz").0 == 200)
        await hung.set()
        let unhealthy = try await get("/healthz")
        #expect(unhealthy.0 == 500)
        #expect(unhealthy.1.contains("controllers"))

        let (code, metrics) = try await get("/metrics")
        #expect(code == 200)
        #expect(metrics.contains(#"workqueue_adds_total{name="cluster",controller="cluster"} 1"#))
        #expect(metrics.contains("workqueue_retries_total"))
        #expect(metrics.contains("workqueue_depth"))

        await group.triggerGracefulShutdown()
        try await running.value
    }
}
