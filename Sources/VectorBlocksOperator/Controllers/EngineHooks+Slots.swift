import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Replication slots: the designated primary keeps one per standby the spec keeps, bounded by the component's
/// `slotMaxWALKeepSize`, and drops those of standbys that are gone; each standby streams through its own; slots a
/// standby kept from a time it was the primary are dropped; a standby the primary no longer has the WAL for (its
/// slot invalidated by the bound while it was away) is cloned afresh, and one that replayed past the fork of the
/// primary's timeline (WAL the promoted standby never had) is rewound.
extension EngineHooks {
    /// Answers when to look again: soon while something is not as wanted or a standby does not stream through its
    /// slot, and `SettledReplicationSlots.recheckInterval` after everything was found settled, since a slot is
    /// invalidated, and a standby stops streaming, without any Kubernetes event.
    func keepReplicationSlots(
        _ engine: EngineComponent, slots: any SlotKeepingEngine, spec: ClusterComponentSpec, on primary: CoreV1.Pod,
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void
    ) async throws -> Duration? {
        guard let primaryName = primary.metadata?.name else { return nil }
        let replicas = Int(spec.replicas ?? 1)
        let podNames = (0..<replicas).map { engine.names.pod(engine.component, ordinal: $0) }
        let wanted = ReplicationSlots.wanted(primary: primaryName, podNames: podNames)
        let keep = (spec.replication ?? ComponentReplication()).slotWALKeepMegabytes(volume: spec.storage(of: "data"))
        let key = EngineObservations.Key(names: engine.names, component: engine.component)
        let fingerprint = SlotsFingerprint(primary: primary, wanted: wanted, keepMegabytes: keep, pods: engine.pods)
        if let untilRecheck = await slotsSettled.untilRecheck(key, fingerprint) { return untilRecheck }

        let view = try await slots.replicationView(primary, in: engine)
        // A promotion still under way: the slots follow once the server runs read-write.
        guard !view.inRecovery else { return .seconds(1) }
        let plan = ReplicationSlots.plan(wanted: wanted, existing: view.slots)
        for (slot, pod) in plan.lost.sorted(by: { $0.key < $1.key }) {
            await report(
                .warning, "ReplicationSlotLost",
                "\(engine.component): the replication slot \(slot) of \(pod) was invalidated: the standby fell more than slotMaxWALKeepSize (\(keep)MB) of WAL behind; the slot is made again, and \(pod) is cloned afresh if it cannot catch up"
            )
        }
        let renewed = plan.lost.keys.sorted()
        if !plan.isSettled || view.keepMegabytes != keep {
            try await slots.changeSlots(
                create: plan.create, drop: plan.drop, renew: renewed, keepMegabytes: view.keepMegabytes == keep ? nil : keep, on: primary,
                in: engine)
            logger.info(
                "kept the replication slots",
                metadata: [
                    "pod": "\(engine.names.namespace)/\(primaryName)", "created": "\(plan.create)", "dropped": "\(plan.drop)",
                    "renewed": "\(renewed)", "max_slot_wal_keep_size_mb": "\(keep)",
                ])
        }
        let standbysSettled = try await keepStandbySlots(engine, slots: slots, primary: primaryName, primaryView: view, replicas: replicas, report: report)
        let allStreaming = wanted.keys.allSatisfy { name in view.slots.contains { $0.name == name && $0.active && !$0.isLost } }
        if plan.isSettled, standbysSettled, allStreaming {
            await slotsSettled.record(key, fingerprint)
            return SettledReplicationSlots.recheckInterval
        }
        await slotsSettled.forget(key)
        return plan.busy.isEmpty ? .seconds(10) : .seconds(1)
    }

    /// Each ready standby: the operator's slots it kept from a time it was the primary dropped, its own slot used,
    /// a fresh clone when the primary no longer has the WAL it needs, and a rewind when it replayed past the fork of
    /// the primary's timeline and stays there. Answers whether all were as wanted; a standby that cannot be served
    /// (a 409 from a pod made again since the cache saw it, a server that refuses) holds back none of the others,
    /// and their failures are thrown together at the end.
    private func keepStandbySlots(
        _ engine: EngineComponent, slots: any SlotKeepingEngine, primary: String, primaryView: ReplicationView, replicas: Int,
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void
    ) async throws -> Bool {
        var settled = true
        var failures = PodFailures()
        for pod in engine.pods where pod.metadata?.deletionTimestamp == nil && ClusterStatusCalculator.isReady(pod) {
            guard let name = pod.metadata?.name, name != primary else { continue }
            do {
                let own = try await keepStandbySlot(
                    pod, engine: engine, slots: slots, primary: primary, primaryView: primaryView, replicas: replicas, report: report)
                settled = settled && own
            } catch {
                settled = false
                failures.append(name, error)
            }
        }
        try failures.throwIfAny()
        return settled
    }

    /// One ready standby's part of `keepStandbySlots`; answers whether it was as wanted.
    private func keepStandbySlot(
        _ pod: CoreV1.Pod, engine: EngineComponent, slots: any SlotKeepingEngine, primary: String, primaryView: ReplicationView, replicas: Int,
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void
    ) async throws -> Bool {
        let name = pod.metadata?.name ?? ""
        let view = try await slots.replicationView(pod, in: engine)
        guard view.inRecovery else { return true }  // a former primary, which fencing deals with
        // Where its WAL receiver asks the primary to stream from, not what it replays: a standby replaying WAL of its
        // own (just rewound, or restarted) may be behind the primary's oldest and still have all it needs.
        if ReplicationSlots.cannotCatchUp(received: view.receivedLSN, primaryOldest: primaryView.oldestWAL) {
            let message =
                "\(engine.component): \(name) stopped at WAL \(view.receivedLSN?.description ?? "?"), which the primary \(primary) no longer has (its oldest is \(primaryView.oldestWAL?.description ?? "?")); its pod is deleted and it clones the primary afresh"
            try await restart(pod, for: .reclone, engine: engine, slots: slots, event: ("StandbyRecloning", message), report: report)
            return false
        }
        if await isStranded(pod, view: view, primaryView: primaryView) {
            let fork = view.timeline.flatMap { primaryView.forks[$0] }?.description ?? "none"
            let message =
                "\(engine.component): \(name) replayed WAL to \(view.replayedLSN?.description ?? "?") on timeline \(view.timeline.map(String.init) ?? "?"), past where the primary \(primary)'s timeline \(primaryView.timeline.map(String.init) ?? "?") forked from it (\(fork)), and cannot follow it; its pod is deleted and it restarts through pg_rewind"
            try await restart(pod, for: .rewind, engine: engine, slots: slots, event: ("StandbyRewinding", message), report: report)
            return false
        }
        let leftovers = ReplicationSlots.leftovers(onStandby: view.slots)
        if !leftovers.isEmpty {
            try await slots.changeSlots(create: [], drop: leftovers, renew: [], keepMegabytes: nil, on: pod, in: engine)
            logger.info("dropped a standby's leftover replication slots", metadata: ["pod": "\(engine.names.namespace)/\(name)", "slots": "\(leftovers)"])
        }
        let own = ReplicationSlots.name(forPod: name)
        if (EngineComponent.ordinal(of: pod) ?? .max) < replicas, view.primarySlot != own {
            try await slots.usePrimarySlot(own, on: pod, in: engine)
            logger.info("a standby streams through its slot", metadata: ["pod": "\(engine.names.namespace)/\(name)", "slot": "\(own)"])
            return false
        }
        // One whose WAL receiver has not streamed yet (a standby just started) is looked at again soon: whether it
        // can catch up is known only once it asks the primary for WAL.
        guard view.streaming, view.receivedLSN != nil else { return false }
        await standbyRestarts.forget(Self.restartKey(name, engine))
        return true
    }

    private static func restartKey(_ pod: String, _ engine: EngineComponent) -> String {
        "\(engine.names.namespace)/\(pod)"
    }

    /// Stranded past a fork, and still at the same position a while later: a standby whose restartpoint has not
    /// caught up with a timeline switch it did follow reports the old timeline, but it moves.
    private func isStranded(_ pod: CoreV1.Pod, view: ReplicationView, primaryView: ReplicationView) async -> Bool {
        let uid = pod.metadata?.uid ?? ""
        guard
            TimelineFork.isStranded(
                standbyTimeline: view.timeline, replayed: view.replayedLSN, streaming: view.streaming, primaryTimeline: primaryView.timeline,
                forks: primaryView.forks), let replayed = view.replayedLSN
        else {
            await stalledStandbys.forget(uid)
            return false
        }
        return await stalledStandbys.isStalled(uid, at: replayed)
    }

    /// Marks the standby's data directory and deletes its pod: the setup script clones the primary afresh or rewinds
    /// onto it when the StatefulSet makes the pod again (its volume stays). A standby restarted before waits out its
    /// backoff first (`StandbyRestarts`), looked at again meanwhile.
    private func restart(
        _ pod: CoreV1.Pod, for restart: StandbyRestart, engine: EngineComponent, slots: any SlotKeepingEngine, event: (reason: String, message: String),
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void
    ) async throws {
        guard let name = pod.metadata?.name else { return }
        let key = Self.restartKey(name, engine)
        if let remaining = await standbyRestarts.backoffRemaining(key) {
            logger.debug(
                "a standby that cannot follow its primary waits out its restart backoff",
                metadata: ["pod": "\(key)", "how": "\(restart)", "remaining": "\(remaining)"])
            return
        }
        try await slots.mark(pod, for: restart, in: engine)
        do {
            try await client.delete(
                CoreV1.Pod.self, name: name, namespace: engine.names.namespace, preconditions: MetaV1.Preconditions(uid: pod.metadata?.uid))
        } catch let error as KubeAPIError where error.isNotFound || error.isConflict {
            // Gone, or made again since the cache saw it (the uid precondition): the next look sees the new pod.
            return
        }
        let backoff = await standbyRestarts.record(key)
        logger.warning("restarting a standby that cannot follow its primary", metadata: ["pod": "\(key)", "how": "\(restart)"])
        await report(
            .warning, event.reason,
            "\(event.message); if it still cannot follow once back, it is restarted again no sooner than \(backoff.components.seconds)s from now")
    }
}

/// Standbys seen stranded past a fork, by pod uid: where they had replayed to, and since when.
actor StalledStandbys {
    /// Longer than a WAL receiver takes to restart (a re-pointing, a reload): a standby that followed a timeline
    /// switch but has not made a restartpoint since reports the old timeline, and may be caught between streams.
    static let stuckFor: Duration = .seconds(5)
    private var seen: [String: (position: WALPosition, since: ContinuousClock.Instant)] = [:]

    /// Whether the standby has stayed at `position` for `stuckFor` since it was first seen there.
    func isStalled(_ uid: String, at position: WALPosition) -> Bool {
        let now = ContinuousClock.now
        guard let first = seen[uid], first.position == position else {
            seen[uid] = (position, now)
            return false
        }
        return now - first.since >= Self.stuckFor
    }

    func forget(_ uid: String) {
        seen[uid] = nil
    }
}

/// What the slots were last made for on each component: the primary (by uid), the slots wanted, the bound, and the
/// pods (by uid, readiness and container restarts: a server that restarted may stream from elsewhere, or not at all).
/// Kept in memory: an operator that restarts looks once more.
struct SlotsFingerprint: Sendable, Hashable {
    var primaryUID: String
    var wanted: Set<String>
    var keepMegabytes: Int64
    var pods: Set<String>

    init(primary: CoreV1.Pod, wanted: [String: String], keepMegabytes: Int64, pods: [CoreV1.Pod]) {
        primaryUID = primary.metadata?.uid ?? ""
        self.wanted = Set(wanted.keys)
        self.keepMegabytes = keepMegabytes
        self.pods = Set(
            pods.map { pod in
                let restarts = (pod.status?.containerStatuses ?? []).reduce(0) { $0 + Int($1.restartCount) }
                return "\(pod.metadata?.uid ?? "")/\(ClusterStatusCalculator.isReady(pod))/\(restarts)"
            })
    }
}

/// The components whose slots were last found settled, for which fingerprint, and when. A fingerprint that still
/// matches spares the servers the questions, but only for `recheckInterval`: a slot is invalidated, and a standby
/// stops streaming, without any change Kubernetes sees.
actor SettledReplicationSlots {
    /// How long a settled component goes without a look at its servers. A look only reads them (it writes nothing
    /// to them or to Kubernetes while everything is as wanted).
    static let recheckInterval: Duration = .seconds(60)
    private var settled: [EngineObservations.Key: (fingerprint: SlotsFingerprint, at: ContinuousClock.Instant)] = [:]

    /// nil when the slots must be looked at now (never settled, something changed, or the last look is
    /// `recheckInterval` old); otherwise how long until the next look is due.
    func untilRecheck(_ key: EngineObservations.Key, _ fingerprint: SlotsFingerprint, now: ContinuousClock.Instant = .now) -> Duration? {
        guard let last = settled[key], last.fingerprint == fingerprint else { return nil }
        let remaining = Self.recheckInterval - (now - last.at)
        return remaining > .zero ? remaining : nil
    }

    func record(_ key: EngineObservations.Key, _ fingerprint: SlotsFingerprint, now: ContinuousClock.Instant = .now) {
        settled[key] = (fingerprint, now)
    }
    func forget(_ key: EngineObservations.Key) { settled[key] = nil }
}
