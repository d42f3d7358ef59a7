import KubeKit
import Testing

@testable import KubeSim

/// A watch whose reader falls too far behind is closed, as kube-apiserver closes it, and resuming from the last event
/// it read loses nothing; the events a watch starts with do not count against it.
@Suite struct SlowWatcherTests {
    @Test func aWatchTooFarBehindIsClosedAndResumesWithoutLoss() async throws {
        let store = ClusterStore(configuration: KubeSimConfiguration())
        await store.bootstrap()
        let configMaps = try #require(await store.resource(.configMapObjects))
        let context = WriteContext(manager: "test", dryRun: false)
        for index in 0..<5 {
            _ = try await store.create(configMaps, namespace: "default", body: configMap("before-\(index)"), context: context)
        }
        // Five objects to start with, then room for three live events: the fourth the reader has not taken closes it.
        let (_, events) = try await store.watch(
            configMaps, namespace: "default", labels: .everything, fields: .everything, resourceVersion: nil, backlogLimit: 3)
        for index in 0..<6 {
            _ = try await store.create(configMaps, namespace: "default", body: configMap("live-\(index)"), context: context)
        }
        var received: [KubeSim.WatchEvent] = []
        for await event in events { received.append(event) }
        #expect(received.map(\.object.metadataName) == (0..<5).map { "before-\($0)" } + (0..<3).map { "live-\($0)" })

        let last = try #require(received.last?.object.resourceVersionString)
        let (id, resumed) = try await store.watch(
            configMaps, namespace: "default", labels: .everything, fields: .everything, resourceVersion: last, backlogLimit: 3)
        var rest: [String?] = []
        for await event in resumed {
            rest.append(event.object.metadataName)
            if rest.count == 3 { break }
        }
        await store.stopWatch(id)
        #expect(rest == ["live-3", "live-4", "live-5"])
    }

    @Test func aWatchWithoutALimitKeepsEverything() async throws {
        let store = ClusterStore(configuration: KubeSimConfiguration())
        await store.bootstrap()
        let configMaps = try #require(await store.resource(.configMapObjects))
        let (id, events) = try await store.watch(configMaps, namespace: "default", labels: .everything, fields: .everything, resourceVersion: nil)
        for index in 0..<50 {
            _ = try await store.create(configMaps, namespace: "default", body: configMap("cm-\(index)"), context: WriteContext(manager: "test", dryRun: false))
        }
        await store.stopWatch(id)
        var count = 0
        for await _ in events { count += 1 }
        #expect(count == 50)
    }
}
