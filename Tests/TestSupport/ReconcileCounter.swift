import MetricsTestKit

/// How many reconciles a controller has finished, whatever their outcome, read from controller-runtime's
/// `controller_runtime_reconcile_total`: a test waits on it to know the operator has looked again, where a sleep
/// would only hope so.
public struct ReconcileCounter: Sendable {
    public let metrics: TestMetrics
    public let controller: String

    public init(_ metrics: TestMetrics, controller: String) {
        self.metrics = metrics
        self.controller = controller
    }

    public var count: Int64 {
        ["success", "error", "requeue_after"].reduce(0) { total, result in
            total + metrics.counterTotal(label: "controller_runtime_reconcile_total", dimensions: [("controller", controller), ("result", result)])
        }
    }

    /// Waits until `more` reconciles have finished after this call.
    public func waitForMore(_ more: Int64 = 1) async throws {
        let target = count + more
        _ = try await eventually("\(more) more reconciles by the \(controller) controller") { count >= target ? true : nil }
    }
}
