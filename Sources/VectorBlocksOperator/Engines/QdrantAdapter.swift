import Foundation
import KubeKit

/// Qdrant: a scale-in moves every shard replica off the leaving peers and removes them from the consensus before
/// the StatefulSet shrinks (DESIGN §2), so no shard loses a replica the way a preStop hook's race did in KubeBlocks.
public struct QdrantAdapter: EngineAdapter {
    static let restPort = 6333

    public init() {}

    public var deletesVolumesAfterScaleIn: Bool { true }

    public func prepareScaleIn(_ component: EngineComponent, to replicas: Int32) async -> ScaleInStep {
        let client: QdrantClient
        let layout: QdrantLayout
        do {
            (client, layout) = try await self.layout(component, below: replicas)
        } catch let failure as Unanswered {
            return .waiting(failure.message)
        } catch {
            return .waiting("Qdrant did not answer: \(error)")
        }
        do {
            switch QdrantScaleInPlan.next(layout, replicas: replicas) {
            case .done:
                return .ready
            case .refuse(let reason):
                return .refused(reason)
            case .wait(let reason):
                return .waiting(reason)
            case .move(let moves):
                for move in moves { try await client.moveShard(move) }
                return .waiting("moving \(moves.count) shard replica(s) off the peers of ordinals \(replicas) and up")
            case .removePeers(let peers):
                for peer in peers { try await client.removePeer(peer) }
                return .waiting("removed peer(s) \(peers.map(String.init).joined(separator: ", ")) from the consensus")
            }
        } catch {
            return .waiting("Qdrant refused a step of the scale-in, to be retried: \(error)")
        }
    }

    public func scaleInRefusal(_ component: EngineComponent, to replicas: Int32) async -> String? {
        guard let (_, layout) = try? await self.layout(component, below: replicas),
            case .refuse(let reason) = QdrantScaleInPlan.next(layout, replicas: replicas)
        else { return nil }
        return reason
    }

    struct Unanswered: Error {
        var message: String
    }

    /// The consensus and the shard layout, asked of the first staying pod that is ready, answers /readyz, and whose
    /// consensus thread is working: a peer that is not healthy has no reliable view.
    func layout(_ component: EngineComponent, below replicas: Int32? = nil) async throws -> (QdrantClient, QdrantLayout) {
        let staying = component.readyPods(below: replicas ?? Int32(component.pods.count))
        var problems: [String] = []
        for pod in staying {
            let name = pod.metadata?.name ?? ""
            guard let address = component.addressing.address(pod, Self.restPort) else {
                problems.append("\(name): no address")
                continue
            }
            let client = QdrantClient(baseURL: "http://\(address.host):\(address.port)", apiKey: component.credential["apiKey"])
            do {
                try await client.ready()
                let status = try await client.clusterStatus()
                guard status.enabled else { return (client, QdrantLayout(peers: [:], collections: [])) }
                guard status.consensus == "working" else {
                    problems.append("\(name): consensus thread is \(status.consensus)")
                    continue
                }
                var collections: [QdrantLayout.Collection] = []
                for collection in try await client.collectionNames() {
                    collections.append(try await client.layout(of: collection))
                }
                let peers = status.peers.mapValues { Self.ordinal(ofPeerURI: $0, workload: component.names.workload(component.component)) }
                return (client, QdrantLayout(peers: peers, collections: collections))
            } catch {
                problems.append("\(name): \(error)")
            }
        }
        throw Unanswered(
            message: staying.isEmpty
                ? "no ready Qdrant pod among those that stay to ask about the cluster"
                : "no Qdrant pod that stays answered: \(problems.joined(separator: "; "))")
    }

    /// The ordinal of the pod a peer runs in, from its Raft URI `http://<workload>-<ordinal>.<headless>...:6335`.
    static func ordinal(ofPeerURI uri: String, workload: String) -> Int? {
        guard let host = URL(string: uri)?.host, let pod = host.split(separator: ".").first, pod.hasPrefix("\(workload)-") else { return nil }
        return Int(pod.dropFirst(workload.count + 1))
    }
}
