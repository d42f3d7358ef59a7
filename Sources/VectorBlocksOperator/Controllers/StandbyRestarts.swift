/// The standbys the operator restarted (cloned afresh or rewound), by namespace and pod name. A standby that still
/// cannot follow once it is back is restarted again only after a backoff that doubles from `initialBackoff` to
/// `maximumBackoff`, as the kubelet's CrashLoopBackOff does: a restart that does not help (a setup script that
/// cannot clone, a primary that drops WAL faster than a clone copies it) is not repeated at every look.
actor StandbyRestarts {
    static let initialBackoff: Duration = .seconds(10)
    static let maximumBackoff: Duration = .seconds(300)
    /// A standby last restarted this long ago starts again from `initialBackoff`.
    static let resetAfter: Duration = .seconds(600)

    private var restarts: [String: (count: Int, at: ContinuousClock.Instant)] = [:]

    /// How long until `pod` may be restarted again; nil when it may be now.
    func backoffRemaining(_ pod: String, now: ContinuousClock.Instant = .now) -> Duration? {
        guard let last = restarts[pod] else { return nil }
        let remaining = Self.backoff(afterRestarts: last.count) - (now - last.at)
        return remaining > .zero ? remaining : nil
    }

    /// Records a restart of `pod`; answers how long the next one must wait.
    @discardableResult
    func record(_ pod: String, now: ContinuousClock.Instant = .now) -> Duration {
        let earlier = restarts[pod].flatMap { now - $0.at < Self.resetAfter ? $0.count : nil } ?? 0
        restarts[pod] = (earlier + 1, now)
        return Self.backoff(afterRestarts: earlier + 1)
    }

    /// The standby follows its primary again: its next restart, if one is ever needed, waits for nothing.
    func forget(_ pod: String) {
        restarts[pod] = nil
    }

    static func backoff(afterRestarts count: Int) -> Duration {
        min(initialBackoff * (1 << min(max(count - 1, 0), 16)), maximumBackoff)
    }
}
