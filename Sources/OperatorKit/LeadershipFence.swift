import KubeKit

/// The write fence of a leader: open until the renew deadline after the last renewal began, closed once leadership
/// ends. A client fenced by it (`KubeClient.fenced(by:)`) sends no write after that instant and cuts off any write
/// still in flight at it, before another candidate can see the lease expire.
public actor LeadershipFence: WriteFence {
    private(set) var deadline: ContinuousClock.Instant?

    public init() {}

    public func writeDeadline() -> ContinuousClock.Instant? {
        guard let deadline, deadline > .now else { return nil }
        return deadline
    }

    func open(until instant: ContinuousClock.Instant) {
        deadline = instant
    }

    func close() {
        deadline = nil
    }
}
