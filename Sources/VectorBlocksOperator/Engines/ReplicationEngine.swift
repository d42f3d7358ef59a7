import KubeKit

/// An engine with one read-write primary and standbys that stream from it (pgvector), whose primary the operator
/// designates and moves: the adapter reports each replica's replication state, promotes a standby and re-points one.
public protocol ReplicationEngine: Sendable {
    /// The state of each pod that answered, ready or not, by pod name.
    func replicaStates(_ component: EngineComponent) async -> [String: ReplicaState]
    /// Ends recovery on `pod`; answers whether it runs read-write now (false: the promotion is still under way).
    func promote(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> Bool
    /// Makes the standby `pod` stream from `primary` from now on, without a restart.
    func follow(_ pod: CoreV1.Pod, primary: CoreV1.Pod, in component: EngineComponent) async throws
    /// Whether the standby's upstream (`ReplicaState.upstream`) is `primary` already.
    func isFollowing(_ state: ReplicaState, primary: CoreV1.Pod, in component: EngineComponent) -> Bool
    /// Writes what the server has in memory to disk, so that a shutdown that follows (a switchover's) is quick.
    func checkpoint(_ pod: CoreV1.Pod, in component: EngineComponent) async throws
    /// The standbys a commit on `pod` waits for ("" when it waits for none).
    func synchronousStandbys(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> String
    /// Makes commits on `pod` wait for `setting` (SynchronousStandbys' form), without a restart.
    func setSynchronousStandbys(_ setting: String, on pod: CoreV1.Pod, in component: EngineComponent) async throws
}

/// What one replica says of itself.
public struct ReplicaState: Sendable, Hashable {
    /// A standby (true) or a server that accepts writes (false).
    public var inRecovery: Bool
    /// The last WAL position a standby received, or, for one that never streamed, replayed.
    public var receivedLSN: WALPosition?
    /// The standby's connection string to its upstream ("" on a primary); never holds a password.
    public var upstream: String
    /// Whether the standby's WAL receiver still streams: WAL may still arrive, so `receivedLSN` is not final.
    public var streaming: Bool

    public init(inRecovery: Bool, receivedLSN: WALPosition?, upstream: String, streaming: Bool = false) {
        self.inRecovery = inRecovery
        self.receivedLSN = receivedLSN
        self.upstream = upstream
        self.streaming = streaming
    }
}

/// A PostgreSQL log sequence number, `XXXXXXXX/XXXXXXXX` in text.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(value: UInt64) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
            high <= UInt32.max, low <= UInt32.max
        else { return nil }
        value = high << 32 | low
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: WALPosition, rhs: WALPosition) -> Bool { lhs.value < rhs.value }
}
