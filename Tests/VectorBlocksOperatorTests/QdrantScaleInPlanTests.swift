import Testing

@testable import VectorBlocksOperator

/// The scale-in decisions, from layouts as Qdrant reports them.
@Suite struct QdrantScaleInPlanTests {
    /// Peers 1...n run in the pods of ordinals 0..<n.
    func peers(_ count: Int) -> [UInt64: Int?] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { (UInt64($0 + 1), Optional($0)) })
    }

    func collection(_ replicas: [Int: [UInt64]], name: String = "docs", factor: Int = 2, transfers: [QdrantLayout.Transfer] = []) -> QdrantLayout.Collection {
        QdrantLayout.Collection(
            name: name, replicationFactor: factor,
            replicas: replicas.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0, "Active") }) }, transfers: transfers)
    }

    @Test func movesEveryReplicaOffTheLeavingPeersOntoStayingOnesThatLackThem() throws {
        // Five peers, four shards with two replicas each; peers 4 and 5 (ordinals 3 and 4) leave.
        let layout = QdrantLayout(peers: peers(5), collections: [collection([0: [1, 4], 1: [2, 5], 2: [3, 4], 3: [5, 1]])])
        guard case .move(let moves) = QdrantScaleInPlan.next(layout, replicas: 3) else {
            Issue.record("expected moves, got \(QdrantScaleInPlan.next(layout, replicas: 3))")
            return
        }
        #expect(moves.map(\.shard) == [0, 1, 2, 3])
        for move in moves {
            #expect([4, 5].contains(move.from))
            #expect([1, 2, 3].contains(move.to))
            let holders = layout.collections[0].replicas[move.shard].map { Set($0.keys) } ?? []
            #expect(!holders.contains(move.to), "shard \(move.shard) moved onto a peer that already has it")
        }
        // The targets are spread: no staying peer takes more than two of the four moves.
        let targets = Dictionary(grouping: moves, by: \.to).mapValues(\.count)
        #expect(targets.values.allSatisfy { $0 <= 2 }, "\(targets)")
    }

    @Test func refusesWhenTheStayingPeersCannotHoldTheReplicationFactor() {
        let layout = QdrantLayout(peers: peers(3), collections: [collection([0: [1, 2], 1: [2, 3]])])
        guard case .refuse(let reason) = QdrantScaleInPlan.next(layout, replicas: 1) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason.contains("\"docs\"") && reason.contains("replication_factor 2") && reason.contains("at least 2 replicas"), "\(reason)")
        // A replica count wider than the factor counts too: a shard on three peers needs three.
        let wide = QdrantLayout(peers: peers(4), collections: [collection([0: [1, 2, 4]], factor: 1)])
        #expect({ if case .refuse = QdrantScaleInPlan.next(wide, replicas: 2) { true } else { false } }())
    }

    @Test func waitsForTransfersThenRemovesTheEmptiedPeersThenIsDone() {
        let moving = QdrantLayout(
            peers: peers(3),
            collections: [
                collection([0: [1, 3]], transfers: [.init(shard: 0, from: 3, to: 2)])
            ])
        #expect({ if case .wait(let message) = QdrantScaleInPlan.next(moving, replicas: 2) { message.contains("shard 0") } else { false } }())

        let emptied = QdrantLayout(peers: peers(3), collections: [collection([0: [1, 2]])])
        #expect(QdrantScaleInPlan.next(emptied, replicas: 2) == .removePeers([3]))

        let gone = QdrantLayout(peers: peers(2), collections: [collection([0: [1, 2]])])
        #expect(QdrantScaleInPlan.next(gone, replicas: 2) == .done)
    }

    @Test func aReplicaThatIsNotActiveIsWaitedForAndUnknownPeersStay() {
        var recovering = collection([0: [1, 3]])
        recovering.replicas[0]?[3] = "Partial"
        let layout = QdrantLayout(peers: peers(3), collections: [recovering])
        #expect({ if case .wait(let message) = QdrantScaleInPlan.next(layout, replicas: 2) { message.contains("Partial") } else { false } }())

        // A peer whose URI names no pod of the component is never removed.
        var foreign = peers(2)
        foreign[99] = .some(nil)
        #expect(QdrantScaleInPlan.next(QdrantLayout(peers: foreign, collections: []), replicas: 2) == .done)
    }

    @Test func peerURIsNameTheirPods() {
        let uri = "http://vectors-qdrant-4.vectors-qdrant-headless.default.svc.cluster.local:6335"
        #expect(QdrantAdapter.ordinal(ofPeerURI: uri, workload: "vectors-qdrant") == 4)
        #expect(QdrantAdapter.ordinal(ofPeerURI: uri, workload: "other-qdrant") == nil)
        #expect(QdrantAdapter.ordinal(ofPeerURI: "http://10.0.0.4:6335", workload: "vectors-qdrant") == nil)
    }
}
