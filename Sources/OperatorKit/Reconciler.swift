/// Brings the world in line with one object's spec. Reconciles are level-triggered: they read the current state and
/// act on it, whatever event caused them, so running one twice is harmless.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}

/// What to do with a key after a successful reconcile.
public struct ReconcileResult: Sendable, Hashable {
    /// Reconcile again after this long even if nothing changes (for example, to poll an engine's progress).
    public var requeueAfter: Duration?

    public init(requeueAfter: Duration? = nil) { self.requeueAfter = requeueAfter }

    public static let done = ReconcileResult()
    public static func requeue(after delay: Duration) -> ReconcileResult { ReconcileResult(requeueAfter: delay) }
}

/// An error that retrying cannot fix (the spec itself is wrong): it is recorded and the key is not retried until the
/// object changes again.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public var underlying: any Error
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }
}
