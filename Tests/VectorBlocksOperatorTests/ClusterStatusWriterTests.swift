import KubeKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

@Suite("Cluster status written over a cache that is behind")
struct ClusterStatusWriterTests {
    /// The stall an OpsRequest volume expansion showed in CI: Creating was written while the StatefulSet was made
    /// anew, then the next reconcile, its cache not yet showing that write, found the Cluster Running as cached and
    /// wrote nothing. The server kept Creating, and the controller is not woken by its own status writes.
    @Test func aStatusBackToWhatTheCacheStillShowsIsWritten() async throws {
        try await withKubeSim { _, client in
            try await installOperatorPrerequisites(client)
            _ = try await client.create(try exampleCluster("qdrant-cluster.yaml", name: "behind"))
            let writes = OwnStatusWrites<ClusterStatus>()
            let writer = ClusterStatusWriter(client: client, writes: writes)
            let running = ClusterStatus(phase: .running, observedGeneration: 1)
            try await writer.publish(running, of: try await client.get(Cluster.self, name: "behind", namespace: "default"))

            let cached = try await client.get(Cluster.self, name: "behind", namespace: "default")
            let key = try #require(ObjectKey(cached))
            var creating = running
            creating.phase = .creating
            try await writer.publish(creating, of: cached)
            let afterCreating = try await client.get(Cluster.self, name: "behind", namespace: "default")
            #expect(afterCreating.status?.phase == .creating)

            var reconciled = cached
            reconciled.status = writes.known(key, cachedVersion: cached.metadata?.resourceVersion, cached: cached.status)
            #expect(reconciled.status == creating)
            try await writer.publish(running, of: reconciled)
            let server = try await client.get(Cluster.self, name: "behind", namespace: "default")
            #expect(server.status?.phase == .running)
            // The cache catching up with that write, from the version it was made over, is no news; any other step is.
            #expect(!writes.isEcho(key, from: afterCreating.metadata?.resourceVersion, to: server.metadata?.resourceVersion))
            #expect(writes.isEcho(key, from: cached.metadata?.resourceVersion, to: server.metadata?.resourceVersion))
        }
    }
}
