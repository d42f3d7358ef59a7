import KubeKit
import TestSupport
import Testing

@testable import KubeSim

/// What the in-process transport must do as a socket does, beyond the verbs `KubeClientTests` runs over both: a
/// watch the client lets go of ends on the server, a reader that stops reading holds the server back until the watch
/// is closed as too slow, and a request with no answer by its deadline fails.
@Suite struct InProcessTransportTests {
    @Test func aWatchTheClientLetsGoOfEndsOnTheServer() async throws {
        try await withKubeSim(transport: .inProcess) { server, client in
            let before = await server.store.openWatchCount()
            let watch = client.watch(CoreV1.ConfigMap.self, namespace: "default")
            _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "first", namespace: "default")))
            for try await event in watch {
                #expect(event.object?.metadata?.name == "first")
                break
            }
            try await eventually("the server to end the watch") { await server.store.openWatchCount() == before ? true : nil }
        }
    }

    @Test func aReaderThatStopsReadingIsClosedAsTooSlow() async throws {
        var configuration = KubeSimConfiguration()
        configuration.watchBacklogLimit = 3
        try await withKubeSim(configuration: configuration, transport: .inProcess) { server, client in
            let before = await server.store.openWatchCount()
            var events = client.watch(CoreV1.ConfigMap.self, namespace: "default").makeAsyncIterator()
            _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "read", namespace: "default")))
            #expect(try await events.next()?.object?.metadata?.name == "read")
            // The server's writer can take one batch past what was read, then waits on the reader: the events after
            // it fill the watch's backlog, and the one past the limit closes it.
            var created = 0
            while await server.store.openWatchCount() > before, created < 1_000 {
                created += 1
                _ = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "unread-\(created)", namespace: "default")))
            }
            #expect(created < 1_000, "the watch stayed open while its reader read nothing")
            var received = 0
            while try await events.next() != nil { received += 1 }
            #expect(received < created)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aRequestWithNoAnswerByItsDeadlineFails() async throws {
        try await withKubeSim(transport: .inProcess) { server, _ in
            try await server.setFaults(FaultInjection(latency: .seconds(600)))
            let configuration = try KubeClientConfiguration(
                server: server.baseURL, retryPolicy: RetryPolicy(maxAttempts: 1), requestTimeout: .milliseconds(200))
            let client = KubeClient(configuration: configuration, transport: server.inProcessTransport())
            await #expect(throws: KubeClientError.self) {
                _ = try await client.get(CoreV1.ConfigMap.self, name: "any", namespace: "default")
            }
            try await client.shutdown()
        }
    }
}
