import ServiceLifecycle

extension KubeSimServer: Service {
    /// Serves until the service group shuts down gracefully (or is cancelled), then stops the server, so an executable
    /// runs it in a `ServiceGroup` with the signals it stops on.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }
}
