import ServiceLifecycle

/// Says that a program serves, from inside its ServiceGroup: the group runs its services only once it traps its
/// shutdown signals, so a supervisor that signals on this message is never met by the default action (death by
/// SIGTERM) of a program still starting.
public struct ServingAnnouncement: Service {
    private let announce: @Sendable () -> Void

    public init(_ announce: @escaping @Sendable () -> Void) {
        self.announce = announce
    }

    public func run() async throws {
        announce()
        try? await gracefulShutdown()
    }
}
