import KubeKit
import KubeSim
import MetricsTestKit
import TestSupport
import Testing

@testable import OperatorKit

/// Who led, in order. An overlap is a candidate starting to lead while another's write fence is still open: what
/// the election guarantees is that writes through the fence stop before another can lead, whenever the old leader's
/// own task gets round to noticing (on a loaded machine, seconds later).
private actor Leadership {
    var leaders: [String] = []
    var leading: Set<String> = []
    var overlaps = 0
    private var fences: [String: LeadershipFence] = [:]

    func register(_ elector: LeaderElector) {
        fences[elector.configuration.identity] = elector.fence
    }

    func start(_ identity: String) async {
        for (other, fence) in fences where other != identity {
            if await fence.writeDeadline() != nil { overlaps += 1 }
        }
        leading.insert(identity)
        leaders.append(identity)
    }

    func stop(_ identity: String) { leading.remove(identity) }

    func wait(forLeaders count: Int) async -> [String] {
        for _ in 0..<6_000 where leaders.count < count {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return leaders
    }
}

@Suite("Leader election")
struct LeaderElectorTests {
    /// Twice the defaults (15 s, 10 s, 2 s) with a quick retry: each renewal is cut off at the renew deadline, and
    /// on a loaded two-core machine running the whole suite a renewal has been seen to take over ten seconds.
    func configuration(_ identity: String) -> LeaderElector.Configuration {
        .init(
            leaseName: "vectorblocks-operator", namespace: "default", identity: identity,
            leaseDuration: .seconds(30), renewDeadline: .seconds(25), retryPeriod: .milliseconds(300))
    }

    fileprivate func candidate(_ elector: LeaderElector, _ log: Leadership, releaseOnCancel: Bool = true) -> Task<Void, any Error> {
        Task {
            await log.register(elector)
            let identity = elector.configuration.identity
            try await elector.run(releaseOnCancel: releaseOnCancel) {
                await log.start(identity)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                await log.stop(identity)
            }
        }
    }

    @Test func oneLeadsAndAStandbyTakesOverAtOnceAfterARelease() async throws {
        let metrics = TestMetrics()
        try await withKubeSim { _, client in
            let log = Leadership()
            let first = LeaderElector(client: client, configuration: configuration("first"), metricsFactory: metrics)
            let firstRun = candidate(first, log)
            #expect(await log.wait(forLeaders: 1) == ["first"])
            let second = LeaderElector(client: client, configuration: configuration("second"))
            let secondRun = candidate(second, log)
            defer { secondRun.cancel() }
            // The standby keeps waiting while the leader renews.
            try await Task.sleep(for: .seconds(3))
            #expect(await log.leaders == ["first"])
            #expect(try metrics.expectGauge("leader_election_master_status", [("name", "vectorblocks-operator")]).lastValue == 1)

            firstRun.cancel()
            try await firstRun.value
            #expect(try metrics.expectGauge("leader_election_master_status", [("name", "vectorblocks-operator")]).lastValue == 0)
            let released = try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default")
            // Released with a one-second duration, unless the standby has already taken it.
            #expect(released.spec?.leaseDurationSeconds == 1 || released.spec?.holderIdentity == "second")
            #expect(await log.wait(forLeaders: 2) == ["first", "second"])
            #expect(await log.overlaps == 0)
            let lease = try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default")
            #expect(lease.spec?.holderIdentity == "second")
            #expect(lease.spec?.leaseTransitions == 1)
        }
    }

    @Test func aCrashedLeadersLeaseExpiresAndIsTakenOver() async throws {
        try await withKubeSim { _, client in
            let log = Leadership()
            let first = LeaderElector(client: client, configuration: configuration("crashing"))
            let firstRun = candidate(first, log, releaseOnCancel: false)
            #expect(await log.wait(forLeaders: 1) == ["crashing"])
            // Stop without releasing, as a killed process would.
            firstRun.cancel()
            try await firstRun.value
            let second = LeaderElector(client: client, configuration: configuration("survivor"))
            let secondRun = candidate(second, log)
            defer { secondRun.cancel() }
            #expect(await log.wait(forLeaders: 2) == ["crashing", "survivor"])
        }
    }

    @Test func aLeaderWhoseLeaseIsTakenStopsLeadingAndReportsIt() async throws {
        try await withKubeSim { _, client in
            let log = Leadership()
            let elector = LeaderElector(client: client, configuration: configuration("usurped"))
            let run = candidate(elector, log)
            #expect(await log.wait(forLeaders: 1) == ["usurped"])
            // Another party rewrites the lease, with a long duration; a renewal in between is a Conflict, so it retries.
            var rewritten = false
            for _ in 0..<50 where !rewritten {
                var lease = try await client.get(CoordinationV1.Lease.self, name: "vectorblocks-operator", namespace: "default")
                lease.spec?.holderIdentity = "someone-else"
                lease.spec?.leaseDurationSeconds = 3600
                lease.spec?.renewTime = .now()
                do {
                    _ = try await client.update(lease)
                    rewritten = true
                } catch let error as KubeAPIError where error.isConflict {
                    continue
                }
            }
            #expect(rewritten)
            await #expect(throws: LeaderElectionError.self) { try await run.value }
            #expect(await log.leading.isEmpty)
            #expect(await elector.isLeader == false)
        }
    }

    /// client-go's guarantee, and ours: a leader that cannot renew stops leading at its renew deadline, before the
    /// lease can pass to another, even when its requests hang instead of failing.
    @Test func aLeaderCutOffFromTheServerStopsLeadingBeforeAStandbyTakesOver() async throws {
        try await withKubeSim { server, client in
            let proxy = try await SeverableProxy.start(upstreamPort: server.port)
            let partitioned = try KubeClient(configuration: KubeClientConfiguration(server: proxy.url))
            let log = Leadership()
            let first = LeaderElector(client: partitioned, configuration: configuration("partitioned"))
            let firstRun = candidate(first, log)
            #expect(await log.wait(forLeaders: 1) == ["partitioned"])
            let second = LeaderElector(client: client, configuration: configuration("reachable"))
            let secondRun = candidate(second, log)
            defer { secondRun.cancel() }

            proxy.sever()
            #expect(await log.wait(forLeaders: 2) == ["partitioned", "reachable"])
            #expect(await log.overlaps == 0)
            #expect(await first.isLeader == false)
            #expect(await first.fence.writeDeadline() == nil)
            await #expect(throws: LeaderElectionError.self) { try await firstRun.value }

            try await proxy.shutdown()
            try await partitioned.shutdown()
        }
    }
}
