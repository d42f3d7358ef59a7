/// Which peer each shard of a collection is snapshotted on: one holding an Active replica of it (a Partial or Dead
/// replica may miss points, qdrant/qdrant#2972's empty snapshots), spread so no peer takes every snapshot.
enum QdrantBackupPlan {
    enum Outcome: Equatable {
        case snapshot([Int: UInt64])
        case refuse(String)
    }

    /// `replicas`: shard → peer → replica state.
    static func sources(collection: String, shardNumber: Int, replicas: [Int: [UInt64: String]]) -> Outcome {
        var load: [UInt64: Int] = [:]
        var chosen: [Int: UInt64] = [:]
        for shard in 0..<shardNumber {
            let states = replicas[shard] ?? [:]
            let active = states.filter { $0.value == "Active" }.keys.sorted()
            guard let peer = active.min(by: { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }) else {
                let seen = states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                return .refuse("shard \(shard) of collection \"\(collection)\" has no Active replica (\(seen.isEmpty ? "no replica" : seen))")
            }
            chosen[shard] = peer
            load[peer, default: 0] += 1
        }
        return .snapshot(chosen)
    }
}
