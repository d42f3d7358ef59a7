import Foundation
import KubeKit

extension QdrantAdapter {
    /// Every peer of the component, each on its own pod's address: the consensus (asked of a ready pod) says which
    /// peers there are, and a peer's Raft URI names its pod. A single-node Qdrant (no consensus) is its one pod.
    static func peers(_ component: EngineComponent) async throws -> QdrantPeers {
        let apiKey = component.credential["apiKey"]
        let workload = component.names.workload(component.component)
        var problems: [String] = []
        for pod in component.readyPods(below: Int32(component.pods.count)) {
            guard let address = component.addressing.address(pod, restPort) else { continue }
            let client = QdrantClient(baseURL: "http://\(address.host):\(address.port)", apiKey: apiKey)
            do {
                let status = try await client.clusterStatus()
                guard status.enabled else { return QdrantPeers(addresses: [0: (client.baseURL, "")], apiKey: apiKey) }
                var addresses: [UInt64: (restURL: String, uri: String)] = [:]
                for (peer, uri) in status.peers {
                    guard let ordinal = ordinal(ofPeerURI: uri, workload: workload),
                        let peerPod = component.pods.first(where: { EngineComponent.ordinal(of: $0) == ordinal }),
                        let peerAddress = component.addressing.address(peerPod, restPort)
                    else { throw BackupWait("Qdrant peer \(peer) (\(uri)) has no pod the operator can reach") }
                    addresses[peer] = ("http://\(peerAddress.host):\(peerAddress.port)", uri)
                }
                return QdrantPeers(addresses: addresses, apiKey: apiKey)
            } catch let wait as BackupWait {
                throw wait
            } catch {
                problems.append("\(pod.metadata?.name ?? ""): \(error)")
            }
        }
        throw BackupWait("no ready Qdrant pod answered: \(problems.isEmpty ? "none is ready" : problems.joined(separator: "; "))")
    }
}
