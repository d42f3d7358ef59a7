/// Decides whether a client may change state, and until when. An operator that leads through a Lease hands its
/// client a fence so that no write of a former leader can be in flight once another may have taken over: each
/// write must finish before the instant the fence gives, and none starts when it gives none.
public protocol WriteFence: Sendable {
    /// The instant by which a write starting now must be complete; nil when writes are not allowed.
    func writeDeadline() async -> ContinuousClock.Instant?
}
