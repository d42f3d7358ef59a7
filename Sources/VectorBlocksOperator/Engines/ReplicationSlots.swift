/// The physical replication slots a primary keeps, one per standby, named after the standby's pod (CloudNativePG's
/// `_cnpg_<pod>` style): WAL a standby has not received is kept while it is briefly away, up to the component's
/// `max_slot_wal_keep_size`. A pure plan from what the primary reports; slots without the operator's prefix (a
/// user's, a backup tool's) are never touched.
public enum ReplicationSlots {
    public static let prefix = "_vb_"
    /// PostgreSQL's NAMEDATALEN less one.
    static let maximumLength = 63

    /// `_vb_` and the pod's name in the characters a slot name may hold (lower-case letters, digits, `_`); a name
    /// too long for PostgreSQL keeps its start and a hash of the whole, so two pods never share a slot.
    public static func name(forPod pod: String) -> String {
        let safe = String(pod.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        let whole = prefix + safe
        guard whole.count > maximumLength else { return whole }
        let hash = String(fnv1a(pod), radix: 16)
        return String(whole.prefix(maximumLength - hash.count - 1)) + "_" + hash
    }

    /// The slot of each standby the spec keeps (ordinals below `replicas`, the primary left out), by slot name: the
    /// pod it belongs to. Made before a standby's pod exists, so its first connection finds it.
    public static func wanted(primary: String, podNames: [String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: podNames.filter { $0 != primary }.map { (name(forPod: $0), $0) })
    }

    /// A slot as `pg_replication_slots` reports it.
    public struct Slot: Sendable, Hashable {
        public var name: String
        public var active: Bool
        /// `reserved`, `extended`, `unreserved` or `lost` (its WAL is gone: the standby cannot catch up from it).
        public var walStatus: String?

        public init(name: String, active: Bool, walStatus: String?) {
            self.name = name
            self.active = active
            self.walStatus = walStatus
        }

        var isLost: Bool { walStatus == "lost" }
    }

    public struct Plan: Sendable, Hashable {
        /// Slots to make, reserving WAL from now on.
        public var create: [String] = []
        /// The operator's slots of standbys that are gone (a scale-in, a promoted standby's own), not in use.
        public var drop: [String] = []
        /// Slots to drop that a WAL sender still uses (a leaving standby still streams): looked at again.
        public var busy: [String] = []
        /// Wanted slots invalidated by the bound, by slot name: the standby that used it cannot catch up from it.
        /// Made again (after ending a WAL sender that still holds one), so WAL is kept for the standby's next start.
        public var lost: [String: String] = [:]

        /// Nothing to do, nothing waited for: the slots are as wanted.
        public var isSettled: Bool { create.isEmpty && drop.isEmpty && busy.isEmpty && lost.isEmpty }
    }

    public static func plan(wanted: [String: String], existing: [Slot]) -> Plan {
        var plan = Plan()
        let ours = existing.filter { $0.name.hasPrefix(prefix) }
        let present = Set(ours.map(\.name))
        for slot in ours.sorted(by: { $0.name < $1.name }) {
            if let pod = wanted[slot.name] {
                // In use or not: a WAL sender may hold an invalidated slot (PostgreSQL 16 lets a standby's WAL
                // receiver take it again), which then keeps no WAL for its standby.
                if slot.isLost { plan.lost[slot.name] = pod }
            } else if slot.active {
                plan.busy.append(slot.name)
            } else {
                plan.drop.append(slot.name)
            }
        }
        plan.create = wanted.keys.filter { !present.contains($0) }.sorted()
        return plan
    }

    /// The operator's slots on a standby, left from a time it was the primary: kept, they would hold WAL on it
    /// that nothing reads.
    public static func leftovers(onStandby existing: [Slot]) -> [String] {
        existing.filter { $0.name.hasPrefix(prefix) && !$0.active }.map(\.name).sorted()
    }

    private static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return hash
    }
}

extension ReplicationSlots {
    /// A standby whose last received position is before the oldest WAL its primary still has can never catch up:
    /// it must be cloned afresh. Whether its WAL receiver streams does not matter: one that asks for WAL the primary
    /// removed is said to stream for the moment between its request and the primary's refusal.
    public static func cannotCatchUp(received: WALPosition?, primaryOldest: WALPosition?) -> Bool {
        guard let received, let primaryOldest else { return false }
        return received < primaryOldest
    }
}
