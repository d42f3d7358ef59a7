import Foundation
import KubeKit
import Logging
import Metrics

/// Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm and defaults: a candidate takes
/// the lease when it is free or its holder has not renewed it within the lease duration (judged by this process's
/// own clock, never by comparing clocks across machines), renews it every retry period, and gives up leadership
/// when it cannot renew within the renew deadline, each attempt cut off at that deadline. Its `fence` stops the
/// leader's writes at the same deadline, so two leaders never write at once. On graceful shutdown the leader
/// releases the lease by writing a one-second duration, so a standby takes over at once.
public actor LeaderElector {
    public struct Configuration: Sendable {
        public var leaseName: String
        public var namespace: String
        /// `hostname_uuid`, as controller-runtime names candidates.
        public var identity: String
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        public init(
            leaseName: String, namespace: String,
            identity: String = "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased())",
            leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
            retryPeriod: Duration = .seconds(2)
        ) {
            self.leaseName = leaseName
            self.namespace = namespace
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }
    }

    nonisolated public let configuration: Configuration
    private let client: KubeClient
    private let logger: Logger
    private let status: Gauge
    private let clock = ContinuousClock()
    /// Admits the writes of `whileLeading`'s client while the lease is surely ours.
    nonisolated public let fence = LeadershipFence()

    /// The lease record as last read, and when this process first saw it in that state.
    private var observed: (holder: String?, renewTime: MetaV1.MicroTime?, at: ContinuousClock.Instant)?
    private(set) public var isLeader = false

    public init(
        client: KubeClient, configuration: Configuration, metricsFactory: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "operatorkit.leader-election")
    ) {
        self.client = client
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "lease"] = "\(configuration.namespace)/\(configuration.leaseName)"
        self.logger = logger
        let dimensions = [("name", configuration.leaseName)]
        status =
            metricsFactory.map { Gauge(label: "leader_election_master_status", dimensions: dimensions, factory: $0) }
            ?? Gauge(label: "leader_election_master_status", dimensions: dimensions)
        status.record(0)
    }

    /// Waits to become leader, runs `whileLeading` as long as the lease is held, and returns when the task is
    /// cancelled (releasing the lease if `releaseOnCancel`). Throws `LeaderElectionError.lost` when the lease is
    /// lost, after cancelling `whileLeading` and waiting for it to end: the caller should stop and exit.
    ///
    /// `whileLeading` must write through a client fenced by `fence`: its writes then stop, and any in flight is cut
    /// off, by the renew deadline after the last renewal began, before another candidate can take the lease.
    public func run(releaseOnCancel: Bool = true, whileLeading: @escaping @Sendable () async -> Void) async throws {
        guard await acquire() else { return }
        let kept = await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await whileLeading()
                return nil
            }
            group.addTask { await self.renewWhileLeading() }
            var kept = true
            while let result = await group.next() {
                guard let result else { continue }
                kept = result
                group.cancelAll()
            }
            return kept
        }
        if kept {
            // This task is cancelled, and so would be the release's requests: release from a fresh task.
            if releaseOnCancel { await Task { await self.release() }.value }
            return
        }
        throw LeaderElectionError.lost(lease: configuration.leaseName, identity: configuration.identity)
    }

    /// Tries until the lease is ours; false if cancelled first.
    private func acquire() async -> Bool {
        logger.info("waiting to become leader", metadata: ["identity": "\(configuration.identity)"])
        while !Task.isCancelled {
            let started = clock.now
            if await tryAcquireOrRenew() {
                await renewed(at: started)
                await becomeLeader(true)
                logger.info("became leader", metadata: ["identity": "\(configuration.identity)"])
                return true
            }
            try? await Task.sleep(for: jittered(configuration.retryPeriod))
        }
        return false
    }

    /// Renews every retry period. Returns true when stopped by cancellation while still leader, false when the
    /// lease could not be renewed within the renew deadline.
    private func renewWhileLeading() async -> Bool {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.retryPeriod)
            if Task.isCancelled { break }
            if await !renew() {
                if Task.isCancelled { break }
                await becomeLeader(false)
                logger.error("lost leadership: the lease was not renewed within the renew deadline")
                return false
            }
        }
        return true
    }

    /// client-go's renew: tries every retry period until the lease is renewed or the renew deadline since the
    /// last renewal began has passed. An attempt still waiting on the server at that deadline is abandoned, so a
    /// hung connection cannot keep a leader leading past it.
    private func renew() async -> Bool {
        let deadline = await fence.deadline ?? clock.now
        while clock.now < deadline, !Task.isCancelled {
            let started = clock.now
            if await tryAcquireOrRenew(before: deadline) {
                await renewed(at: started)
                return true
            }
            try? await Task.sleep(until: min(clock.now + configuration.retryPeriod, deadline))
        }
        return false
    }

    private func tryAcquireOrRenew(before deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.tryAcquireOrRenew() }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// A renewal that began at `started` keeps the lease ours, in every candidate's eyes, until at least `started`
    /// plus the lease duration; the renew deadline, shorter, leaves the margin in which writes stop.
    private func renewed(at started: ContinuousClock.Instant) async {
        await fence.open(until: started + configuration.renewDeadline)
    }

    private func tryAcquireOrRenew() async -> Bool {
        let now = MetaV1.MicroTime.now()
        let durationSeconds = Int32(configuration.leaseDuration.components.seconds)
        let lease: CoordinationV1.Lease
        do {
            lease = try await client.get(
                CoordinationV1.Lease.self, name: configuration.leaseName, namespace: configuration.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            let fresh = CoordinationV1.Lease(
                metadata: MetaV1.ObjectMeta(name: configuration.leaseName, namespace: configuration.namespace),
                spec: CoordinationV1.LeaseSpec(
                    acquireTime: now, holderIdentity: configuration.identity, leaseDurationSeconds: durationSeconds,
                    leaseTransitions: 0, renewTime: now))
            do {
                _ = try await client.create(fresh)
                observe(holder: configuration.identity, renewTime: now)
                return true
            } catch {
                logger.debug("could not create the lease", metadata: ["error": "\(error)"])
                return false
            }
        } catch {
            logger.debug("could not read the lease", metadata: ["error": "\(error)"])
            return false
        }

        let spec = lease.spec ?? CoordinationV1.LeaseSpec()
        let holder = spec.holderIdentity.flatMap { $0.isEmpty ? nil : $0 }
        if observed?.holder != holder || observed?.renewTime != spec.renewTime {
            observe(holder: holder, renewTime: spec.renewTime)
        }
        let heldByOther = holder != nil && holder != configuration.identity
        let leaseSeconds = Int64(spec.leaseDurationSeconds ?? durationSeconds)
        if heldByOther, let observed, clock.now - observed.at < .seconds(leaseSeconds) {
            return false
        }

        var updated = lease
        var newSpec = spec
        if holder != configuration.identity {
            newSpec.acquireTime = now
            newSpec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        newSpec.holderIdentity = configuration.identity
        newSpec.leaseDurationSeconds = durationSeconds
        newSpec.renewTime = now
        updated.spec = newSpec
        do {
            // The resourceVersion read above makes this a compare-and-swap: of two candidates, one wins.
            _ = try await client.update(updated)
            observe(holder: configuration.identity, renewTime: now)
            return true
        } catch {
            logger.debug("could not update the lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives the lease up: a one-second duration and no holder, so a standby takes it on its next try.
    private func release() async {
        await becomeLeader(false)
        do {
            var lease = try await client.get(
                CoordinationV1.Lease.self, name: configuration.leaseName, namespace: configuration.namespace)
            guard lease.spec?.holderIdentity == configuration.identity else { return }
            let now = MetaV1.MicroTime.now()
            lease.spec?.holderIdentity = nil
            lease.spec?.leaseDurationSeconds = 1
            lease.spec?.renewTime = now
            lease.spec?.acquireTime = now
            _ = try await client.update(lease)
            logger.info("released the lease")
        } catch {
            logger.warning("could not release the lease; it expires by itself", metadata: ["error": "\(error)"])
        }
    }

    private func observe(holder: String?, renewTime: MetaV1.MicroTime?) {
        observed = (holder, renewTime, clock.now)
    }

    private func becomeLeader(_ leading: Bool) async {
        if !leading { await fence.close() }
        isLeader = leading
        status.record(leading ? 1 : 0)
    }

    /// client-go waits up to 1.2 × the retry period, so candidates do not retry in lockstep.
    private func jittered(_ period: Duration) -> Duration {
        period + period * Double.random(in: 0...0.2)
    }
}

public enum LeaderElectionError: Error, Sendable, CustomStringConvertible {
    case lost(lease: String, identity: String)

    public var description: String {
        switch self {
        case .lost(let lease, let identity): "\(identity) lost the leader election lease \(lease)"
        }
    }
}
