import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// How the double behaves as a distributed Qdrant deployment.
public struct QdrantClusterSimulation: Sendable {
    /// How long a shard transfer takes before the receiving replica is Active and the source replica is dropped.
    public var transferDuration: Duration

    public init(transferDuration: Duration = .milliseconds(300)) {
        self.transferDuration = transferDuration
    }
}

/// A shard transfer in flight: Qdrant's `ShardTransferInfo`.
struct ShardTransfer: Sendable, Hashable {
    var shard: Int
    var from: UInt64
    var to: UInt64
    var finishes: ContinuousClock.Instant
}

/// The consensus state every peer shares: who the peers are and which one answers.
struct ClusterPeers: Sendable {
    let simulation: QdrantClusterSimulation?
    /// Peer id → Raft URI.
    var peers: [UInt64: String] = [:]
    /// The peer the double answers as (`peer_id` in answers); the first to join.
    var answering: UInt64?
    var commit: UInt64 = 0
    private var nextPeer: UInt64 = 1_000_001

    init(simulation: QdrantClusterSimulation?) {
        self.simulation = simulation
        // A single-node Qdrant is one peer holding every shard.
        if simulation == nil { _ = join(uri: "http://127.0.0.1:6335") }
    }

    mutating func join(uri: String) -> UInt64 {
        if let existing = peers.first(where: { $0.value == uri })?.key { return existing }
        let id = nextPeer
        // Qdrant's peer ids are random 64-bit numbers; these only need to be distinct and stable.
        nextPeer += 7_919
        peers[id] = uri
        if answering == nil { answering = id }
        commit += 1
        return id
    }

    /// Where a new collection's replicas go: each shard on `replicationFactor` distinct peers (fewer when there are
    /// fewer peers, as Qdrant does), spread round-robin.
    func placement(shards: Int, replicationFactor: Int) -> [Int: [UInt64: String]] {
        let ids = peers.keys.sorted()
        guard !ids.isEmpty else { return [:] }
        var placement: [Int: [UInt64: String]] = [:]
        for shard in 0..<shards {
            var replicas: [UInt64: String] = [:]
            for copy in 0..<min(replicationFactor, ids.count) {
                replicas[ids[(shard + copy) % ids.count]] = "Active"
            }
            placement[shard] = replicas
        }
        return placement
    }
}

extension QdrantState {
    /// Finishes the transfers whose time has come: the receiver's replica turns Active and the source's is dropped;
    /// and the snapshot recoveries, whose replicas turn Active.
    func settleTransfers() {
        let now = ContinuousClock.now
        for name in collections.keys {
            guard var collection = collections[name], !collection.transfers.isEmpty || !collection.recoveries.isEmpty else { continue }
            for recovery in collection.recoveries where recovery.finishes <= now {
                if collection.replicas[recovery.shard]?[recovery.peer] != nil { collection.replicas[recovery.shard]?[recovery.peer] = "Active" }
                cluster.commit += 1
            }
            collection.recoveries.removeAll { $0.finishes <= now }
            for transfer in collection.transfers where transfer.finishes <= now {
                collection.replicas[transfer.shard]?[transfer.to] = "Active"
                collection.replicas[transfer.shard]?[transfer.from] = nil
                cluster.commit += 1
            }
            collection.transfers.removeAll { $0.finishes <= now }
            collections[name] = collection
        }
    }

    /// Qdrant's `POST /collections/{name}/cluster` with `move_shard`: checked as Qdrant checks it, then started.
    func moveShard(_ name: String, shard: Int, from: UInt64, to: UInt64) -> Response {
        mutate(name) { collection in
            guard let replicas = collection.replicas[shard] else {
                return QdrantServer.error(.badRequest, "Bad request: Shard \(shard) does not exist")
            }
            guard cluster.peers[to] != nil else { return QdrantServer.error(.badRequest, "Bad request: Peer \(to) does not exist") }
            guard replicas[from] == "Active" else {
                return QdrantServer.error(.badRequest, "Bad request: Shard \(shard) is not active on peer \(from)")
            }
            guard replicas[to] == nil else {
                return QdrantServer.error(.badRequest, "Bad request: Shard \(shard) is already present on peer \(to)")
            }
            if let busy = collection.transfers.first(where: { $0.shard == shard }) {
                return QdrantServer.error(.badRequest, "Bad request: Shard \(shard) is already involved in transfer \(busy.from) -> \(busy.to)")
            }
            let duration = cluster.simulation?.transferDuration ?? .zero
            collection.transfers.append(ShardTransfer(shard: shard, from: from, to: to, finishes: .now + duration))
            collection.replicas[shard]?[to] = "Partial"
            cluster.commit += 1
            return QdrantServer.ok(true)
        }
    }

    /// Qdrant's `DELETE /cluster/peer/{id}`: refused while the peer holds a replica or takes part in a transfer, unless
    /// forced, in which case its replicas are gone and a shard left without any replica loses its points.
    func removePeer(_ peer: UInt64, force: Bool) -> Response {
        settleTransfers()
        guard cluster.peers[peer] != nil else { return QdrantServer.error(.notFound, "Not found: Peer \(peer) does not exist") }
        let holding = collections.values.contains { collection in
            collection.replicas.values.contains { $0[peer] != nil } || collection.transfers.contains { $0.from == peer || $0.to == peer }
        }
        if holding, !force {
            return QdrantServer.error(.badRequest, "Bad request: Cannot remove peer \(peer) as there are shards on it")
        }
        for name in collections.keys {
            guard var collection = collections[name] else { continue }
            collection.transfers.removeAll { $0.from == peer || $0.to == peer }
            for shard in collection.replicas.keys {
                collection.replicas[shard]?[peer] = nil
                if collection.replicas[shard]?.values.contains("Active") != true {
                    collection.points = collection.points.filter { Self.shard(ofPoint: $0.key, shards: collection.shardNumber) != shard }
                }
            }
            collections[name] = collection
        }
        cluster.peers[peer] = nil
        if cluster.answering == peer { cluster.answering = cluster.peers.keys.min() }
        cluster.commit += 1
        return QdrantServer.ok(true)
    }

    /// The shard a point lives in: a stable hash of its id, as Qdrant hashes ids onto shards.
    static func shard(ofPoint id: String, shards: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(max(shards, 1)))
    }

    func clusterInfo(_ name: String, as peer: UInt64?) -> Response {
        read(name) { collection in
            let me = peer ?? cluster.answering ?? 0
            var local: [[String: Any]] = []
            var remote: [[String: Any]] = []
            for (shard, replicas) in collection.replicas.sorted(by: { $0.key < $1.key }) {
                for (peer, state) in replicas.sorted(by: { $0.key < $1.key }) {
                    if peer == me {
                        let count = collection.points.keys.filter { Self.shard(ofPoint: $0, shards: collection.shardNumber) == shard }.count
                        local.append(["shard_id": shard, "points_count": count, "state": state])
                    } else {
                        remote.append(["shard_id": shard, "peer_id": peer, "state": state])
                    }
                }
            }
            let transfers: [[String: Any]] = collection.transfers.map {
                ["shard_id": $0.shard, "from": $0.from, "to": $0.to, "sync": false, "method": "stream_records"]
            }
            return QdrantServer.ok([
                "peer_id": me, "shard_count": collection.shardNumber, "local_shards": local, "remote_shards": remote,
                "shard_transfers": transfers,
            ])
        }
    }

    func clusterStatus(as peer: UInt64?) -> Response {
        settleTransfers()
        guard cluster.simulation != nil, let me = peer ?? cluster.answering else { return QdrantServer.ok(["status": "disabled"]) }
        return QdrantServer.ok([
            "status": "enabled", "peer_id": me,
            "peers": Dictionary(uniqueKeysWithValues: cluster.peers.map { (String($0.key), ["uri": $0.value]) }),
            "raft_info": ["term": 1, "commit": cluster.commit, "pending_operations": 0, "leader": me, "role": "Leader", "is_voter": true],
            "consensus_thread_status": ["consensus_thread_status": "working", "last_update": ISO8601DateFormatter().string(from: Date())],
            "message_send_failures": [String: Any](),
        ])
    }
}

extension QdrantServer {
    /// A peer joins the cluster (as a pod started with `--bootstrap` does); returns its peer id.
    @discardableResult
    public func addPeer(uri: String) async -> UInt64 {
        await state.join(uri: uri)
    }

    /// Peer id → Raft URI of the peers in the consensus.
    public func peers() async -> [UInt64: String] {
        await state.cluster.peers
    }

    /// Shard id → the peers holding an Active replica of it, once the transfers due have finished; nil when there is
    /// no such collection.
    public func activeReplicas(of collection: String) async -> [Int: Set<UInt64>]? {
        await state.activeReplicas(of: collection)
    }

    /// Sends a request to the double as a client would, with its API key; returns the status code and the body.
    public func send(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }

    static func healthRoutes(_ router: Router<BasicRequestContext>) {
        // Qdrant answers these without an API key, for Kubernetes probes.
        for path in ["/readyz", "/livez", "/healthz"] {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "all shards are ready")))
            }
        }
    }

    static func clusterRoutes(_ router: Router<BasicRequestContext>, state: QdrantState, peer: UInt64?) {
        router.get("/cluster") { _, _ in await state.clusterStatus(as: peer) }
        router.delete("/cluster/peer/:peer") { request, context in
            guard let peer = UInt64(try context.parameters.require("peer")) else {
                return error(.badRequest, "Wrong input: peer_id must be an unsigned integer")
            }
            return await state.removePeer(peer, force: request.uri.queryParameters.get("force") == "true")
        }
        router.get("/collections/:collection/cluster") { _, context in
            await state.clusterInfo(try context.parameters.require("collection"), as: peer)
        }
        router.post("/collections/:collection/cluster") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let move = body["move_shard"] as? [String: Any] else {
                return error(.unprocessableContent, "Format error in JSON body: this double serves the move_shard operation")
            }
            guard let shard = (move["shard_id"] as? NSNumber)?.intValue, let from = (move["from_peer_id"] as? NSNumber)?.uint64Value,
                let to = (move["to_peer_id"] as? NSNumber)?.uint64Value
            else {
                return error(.unprocessableContent, "Format error in JSON body: move_shard needs shard_id, from_peer_id and to_peer_id")
            }
            return await state.moveShard(name, shard: shard, from: from, to: to)
        }
    }
}

extension QdrantState {
    func join(uri: String) -> UInt64 {
        cluster.join(uri: uri)
    }

    func activeReplicas(of name: String) -> [Int: Set<UInt64>]? {
        settleTransfers()
        return collections[name].map { collection in
            collection.replicas.mapValues { Set($0.filter { $0.value == "Active" }.keys) }
        }
    }
}
