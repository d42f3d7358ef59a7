/// What a Qdrant cluster reports about where its data lives: the input of a scale-in decision.
public struct QdrantLayout: Sendable, Hashable {
    public struct Collection: Sendable, Hashable {
        public var name: String
        public var replicationFactor: Int
        /// Shard id → peer id → replica state ("Active", "Partial", "Dead", ...).
        public var replicas: [Int: [UInt64: String]]
        public var transfers: [Transfer]

        public init(name: String, replicationFactor: Int, replicas: [Int: [UInt64: String]], transfers: [Transfer] = []) {
            self.name = name
            self.replicationFactor = replicationFactor
            self.replicas = replicas
            self.transfers = transfers
        }
    }

    public struct Transfer: Sendable, Hashable {
        public var shard: Int
        public var from: UInt64
        public var to: UInt64

        public init(shard: Int, from: UInt64, to: UInt64) {
            self.shard = shard
            self.from = from
            self.to = to
        }
    }

    /// Peer id → the StatefulSet ordinal of the pod it runs in, read from its Raft URI; nil for a URI that names no
    /// pod of the component.
    public var peers: [UInt64: Int?]
    public var collections: [Collection]

    public init(peers: [UInt64: Int?], collections: [Collection]) {
        self.peers = peers
        self.collections = collections
    }
}

/// The next step of a Qdrant scale-in, decided from the layout alone so that every rule is tested without a server
/// and a restarted operator takes up where the last one stopped: refuse when the staying peers cannot hold every
/// shard's replicas, wait for transfers, move each replica off a leaving peer onto the least-loaded staying peer
/// that lacks it, then remove the emptied peers from the consensus.
public enum QdrantScaleInPlan: Sendable, Hashable {
    public struct Move: Sendable, Hashable {
        public var collection: String
        public var shard: Int
        public var from: UInt64
        public var to: UInt64
    }

    /// No leaving peer is left in the consensus.
    case done
    case refuse(String)
    case wait(String)
    case move([Move])
    case removePeers([UInt64])

    public static func next(_ layout: QdrantLayout, replicas: Int32) -> QdrantScaleInPlan {
        let leaving = Set(layout.peers.filter { $0.value.map { $0 >= Int(replicas) } ?? false }.keys)
        let staying = Set(layout.peers.keys).subtracting(leaving)
        guard !leaving.isEmpty else { return .done }
        if let refusal = refusal(layout, staying: staying.count, replicas: replicas) { return .refuse(refusal) }

        let inFlight = layout.collections.flatMap { collection in
            collection.transfers.filter { leaving.contains($0.from) || leaving.contains($0.to) }.map { (collection.name, $0) }
        }
        if !inFlight.isEmpty {
            let first = inFlight[0]
            return .wait(
                "\(inFlight.count) shard transfer(s) in flight, such as shard \(first.1.shard) of collection \"\(first.0)\" from peer \(first.1.from) to \(first.1.to)"
            )
        }

        var load: [UInt64: Int] = Dictionary(uniqueKeysWithValues: staying.map { ($0, 0) })
        for collection in layout.collections {
            for peers in collection.replicas.values {
                for peer in peers.keys where staying.contains(peer) { load[peer, default: 0] += 1 }
            }
        }
        var moves: [Move] = []
        for collection in layout.collections.sorted(by: { $0.name < $1.name }) {
            for (shard, peers) in collection.replicas.sorted(by: { $0.key < $1.key }) {
                // One transfer per shard at a time, as Qdrant allows; the next call moves the shard's other replicas.
                guard let (from, state) = peers.filter({ leaving.contains($0.key) }).min(by: { $0.key < $1.key }) else { continue }
                guard state == "Active" else {
                    return .wait(
                        "the replica of shard \(shard) of collection \"\(collection.name)\" on leaving peer \(from) is \(state); waiting for Qdrant to recover it"
                    )
                }
                let candidates = staying.filter { peers[$0] == nil }
                guard let target = candidates.min(by: { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }) else { continue }
                load[target, default: 0] += 1
                moves.append(Move(collection: collection.name, shard: shard, from: from, to: target))
            }
        }
        if !moves.isEmpty { return .move(moves) }
        return .removePeers(leaving.sorted())
    }

    /// Why the peers that stay cannot hold the data, or nil when they can.
    static func refusal(_ layout: QdrantLayout, staying: Int, replicas: Int32) -> String? {
        for collection in layout.collections.sorted(by: { $0.name < $1.name }) {
            let widest = collection.replicas.values.map(\.count).max() ?? 0
            let needed = max(collection.replicationFactor, widest)
            if needed > staying {
                return "collection \"\(collection.name)\" keeps \(needed) replicas of each shard (replication_factor \(collection.replicationFactor)), "
                    + "which \(replicas) peer(s) cannot hold; scale to at least \(needed) replicas, or lower the collection's replication_factor first"
            }
        }
        return nil
    }
}
