import KubeSim
import TestSupport
import Testing

@testable import KubeKit

/// A fence that admits writes until a fixed instant, or none.
private struct FixedFence: WriteFence {
    var deadline: ContinuousClock.Instant?

    func writeDeadline() async -> ContinuousClock.Instant? { deadline }
}

private func configMap(_ name: String) -> CoreV1.ConfigMap {
    CoreV1.ConfigMap(data: ["k": "v"], metadata: .init(name: name, namespace: "default"))
}

@Suite("Write fence")
struct WriteFenceTests {
    @Test func aClosedFenceSendsNoWriteButReads() async throws {
        try await withKubeSim { server, client in
            let fenced = client.fenced(by: FixedFence(deadline: nil))
            await #expect(throws: KubeClientError.self) { _ = try await fenced.create(configMap("refused")) }
            let expired = client.fenced(by: FixedFence(deadline: .now - .seconds(1)))
            await #expect(throws: KubeClientError.self) { _ = try await expired.create(configMap("late")) }
            let writes = await server.writeLog().filter { $0.path.contains("configmaps") }
            #expect(writes.isEmpty)
            #expect(try await fenced.list(CoreV1.ConfigMap.self, namespace: "default").items.isEmpty)

            let open = client.fenced(by: FixedFence(deadline: .now + .seconds(120)))
            _ = try await open.create(configMap("admitted"))
            #expect(try await client.get(CoreV1.ConfigMap.self, name: "admitted", namespace: "default").data?["k"] == "v")
        }
    }

    /// A write hanging on a partitioned connection ends at the fence's deadline, not at the request timeout.
    @Test func aWriteInFlightIsCutOffAtTheFencesDeadline() async throws {
        try await withKubeSim { server, _ in
            let proxy = try await SeverableProxy.start(upstreamPort: server.port)
            let client = try KubeClient(configuration: KubeClientConfiguration(server: proxy.url, requestTimeout: .seconds(3_600)))
            let fenced = client.fenced(by: FixedFence(deadline: .now + .seconds(2)))
            proxy.sever()
            await #expect(throws: KubeClientError.self) { _ = try await fenced.create(configMap("partitioned")) }
            try await proxy.shutdown()
            try await client.shutdown()
        }
    }
}
