import KubeKit

/// A Replication engine whose primary keeps a replication slot per standby (pgvector): the slots and their bound,
/// read and changed on one server, and a standby made to start afresh (cloned again, or rewound).
public protocol SlotKeepingEngine: ReplicationEngine {
    /// What `pod`'s server says of its slots, its bound, its timeline and, on a standby, how it streams.
    func replicationView(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> ReplicationView
    /// Makes and drops slots on `pod`, makes again the `renew` slots that are invalidated (ending the WAL sender that
    /// still holds one), and sets its bound (`max_slot_wal_keep_size`) when `keepMegabytes` is given.
    func changeSlots(
        create: [String], drop: [String], renew: [String], keepMegabytes: Int64?, on pod: CoreV1.Pod, in component: EngineComponent
    ) async throws
    /// Makes the standby `pod` stream through `slot` from now on, without a restart.
    func usePrimarySlot(_ slot: String, on pod: CoreV1.Pod, in component: EngineComponent) async throws
    /// Marks the standby `pod`'s data directory so that its next start clones the primary afresh or rewinds onto it.
    func mark(_ pod: CoreV1.Pod, for restart: StandbyRestart, in component: EngineComponent) async throws
}

/// How a standby that cannot follow its primary starts again.
public enum StandbyRestart: String, Sendable, Hashable {
    /// The primary no longer has the WAL it needs: a fresh clone.
    case reclone
    /// It replayed past the fork of the primary's timeline: pg_rewind, then it follows.
    case rewind
}

/// One server's side of replication.
public struct ReplicationView: Sendable, Hashable {
    public var inRecovery: Bool
    public var slots: [ReplicationSlots.Slot]
    /// `max_slot_wal_keep_size` in megabytes (-1: unbounded).
    public var keepMegabytes: Int64
    /// A standby's `primary_slot_name` ("" when it streams through none).
    public var primarySlot: String
    /// The oldest WAL position the server still has in `pg_wal`: a standby behind it cannot stream from it.
    public var oldestWAL: WALPosition?
    /// A standby's last received WAL position (`pg_last_wal_receive_lsn()`): where its WAL receiver asks the primary
    /// to stream from. nil until its WAL receiver first starts (it may still be replaying WAL of its own).
    public var receivedLSN: WALPosition?
    /// A standby's last replayed WAL position.
    public var replayedLSN: WALPosition?
    /// Whether a standby's WAL receiver streams.
    public var streaming: Bool
    /// A primary's timeline, or a standby's as of its last restartpoint.
    public var timeline: UInt32?
    /// A primary's timeline history: where each earlier timeline forked, by that timeline.
    public var forks: [UInt32: WALPosition]

    public init(
        inRecovery: Bool, slots: [ReplicationSlots.Slot] = [], keepMegabytes: Int64 = -1, primarySlot: String = "",
        oldestWAL: WALPosition? = nil, receivedLSN: WALPosition? = nil, replayedLSN: WALPosition? = nil, streaming: Bool = false,
        timeline: UInt32? = nil, forks: [UInt32: WALPosition] = [:]
    ) {
        self.inRecovery = inRecovery
        self.slots = slots
        self.keepMegabytes = keepMegabytes
        self.primarySlot = primarySlot
        self.oldestWAL = oldestWAL
        self.receivedLSN = receivedLSN
        self.replayedLSN = replayedLSN
        self.streaming = streaming
        self.timeline = timeline
        self.forks = forks
    }
}
