import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// The primary of each Replication component: recorded in the Cluster's status, moved to the most advanced standby
/// when it stays unavailable for the component's failover delay, and made real in the engine afterwards.
///
/// A promotion is gated by the status write: the new primary is written with the Cluster's resourceVersion as a
/// precondition before any server is promoted, so of two operators (or an operator and a stale cache) only one
/// write succeeds, and only the pod that write names is ever promoted. Each step reads what is rather than what was
/// done, so an operator that dies mid-way leaves the next one a status from which it finishes the job.
extension EngineHooks {
    /// The status the election wrote (nil when nothing changed), and when to look again at a primary that is
    /// unavailable but not yet for its whole delay, or that no standby can replace yet.
    struct Election: Sendable {
        var written: Cluster?
        var lookAgain: Duration?
    }

    private struct Designation {
        var component: String
        var pod: String
        var event: (type: EventRecorder.EventType, reason: String, message: String)
    }

    func electPrimaries(
        _ stored: Cluster, definition: ClusterDefinition, names: ClusterNames, credential: [String: String], events: EventRecorder
    ) async throws -> Election {
        var election = Election()
        var designations: [Designation] = []
        for component in stored.spec.componentSpecs where (component.replicas ?? 1) > 0 {
            guard definition.componentDef(named: component.componentDefRef)?.workloadType == .replication,
                let replication = adapter(component, definition: definition) as? any ReplicationEngine
            else { continue }
            let engine = await engineComponent(component.name, names: names, credential: credential)
            let key = EngineObservations.Key(names: names, component: component.name)
            guard let recorded = PrimaryDesignation.recorded(stored, component: component.name) else {
                // Until a pod answers, the pods start from the default designation (ordinal 0); recording waits for
                // the servers, so a component whose primary already runs elsewhere keeps it. They are asked only when
                // the pods changed since they last answered, as for roles: an idle component is not asked again.
                guard engine.pods.contains(where: ClusterStatusCalculator.isReady), await observed.hasChanged(key, pods: engine.pods, designatedPrimary: nil)
                else {
                    continue
                }
                let states = await replication.replicaStates(engine)
                guard let pod = FailoverPlan.initialPrimary(states, ordinalZero: names.pod(component.name, ordinal: 0), pods: engine.pods)
                else {
                    let writable = states.filter { !$0.value.inRecovery }.keys.sorted()
                    if writable.count > 1 {
                        await events.record(
                            stored, type: .warning, reason: "PrimaryConflict",
                            message:
                                "\(component.name): \(writable.joined(separator: ", ")) all run read-write and none is recorded as the primary; the operator will not choose between them: delete the pods of those to demote, or set status.components.\(component.name).primary"
                        )
                    }
                    continue
                }
                designations.append(
                    Designation(
                        component: component.name, pod: pod,
                        event: (.normal, "PrimaryDesignated", "\(component.name): \(pod) is the primary")))
                continue
            }
            // A single replica has no standby to promote: its pod restarts as the primary it was.
            guard (component.replicas ?? 1) > 1, FailoverPlan.primaryUnavailable(recorded, pods: engine.pods) else {
                await outages.clear(key)
                continue
            }
            let unavailableFor = await outages.unavailableFor(key)
            let delay = component.replication?.failoverDelay ?? .zero
            if unavailableFor < delay {
                election.lookAgain = Self.sooner(election.lookAgain, delay - unavailableFor)
                continue
            }
            let states = await replication.replicaStates(engine)
            let candidate: String
            switch FailoverPlan.candidate(states, pods: engine.pods, excluding: recorded) {
            case .promote(let pod):
                candidate = pod
            case .awaitPositions(let silent):
                await events.record(
                    stored, type: .warning, reason: "FailoverBlocked",
                    message:
                        "\(component.name): the primary \(recorded) is unavailable, but the ready standbys \(silent.joined(separator: ", ")) did not say how much WAL they received; the operator promotes the most advanced once they answer or their pods stop being ready"
                )
                election.lookAgain = Self.sooner(election.lookAgain, .seconds(2))
                continue
            case .awaitReceivers(let streaming):
                await events.record(
                    stored, type: .warning, reason: "FailoverBlocked",
                    message:
                        "\(component.name): the primary \(recorded) is unavailable, but \(streaming.joined(separator: ", ")) still stream WAL from it; the operator promotes the most advanced once their WAL receivers stop (the primary may still be running)"
                )
                election.lookAgain = Self.sooner(election.lookAgain, .seconds(1))
                continue
            case .noStandby:
                await events.record(
                    stored, type: .warning, reason: "FailoverBlocked",
                    message:
                        "\(component.name): the primary \(recorded) is unavailable and no ready standby answered with its WAL position; the operator promotes one as soon as one does"
                )
                election.lookAgain = Self.sooner(election.lookAgain, .seconds(5))
                continue
            }
            let position = states[candidate]?.receivedLSN?.description ?? "?"
            designations.append(
                Designation(
                    component: component.name, pod: candidate,
                    event: (
                        .warning, "FailoverStarted",
                        "\(component.name): the primary \(recorded) is unavailable; promoting \(candidate), the standby that received the most WAL (\(position))"
                    )))
        }
        guard !designations.isEmpty else { return election }
        let updated = PrimaryDesignation.recording(
            Dictionary(designations.map { ($0.component, $0.pod) }, uniquingKeysWith: { $1 }), in: stored)
        // The compare-and-swap: a PUT carries the cached resourceVersion, and the server refuses it (409) when
        // anyone wrote the Cluster since; the work queue retries from the newer object.
        let written = try await client.updateStatus(updated)
        for designation in designations {
            logger.info(
                "designated the primary",
                metadata: ["cluster": "\(names.namespace)/\(names.cluster)", "component": "\(designation.component)", "pod": "\(designation.pod)"])
            await observed.forget(EngineObservations.Key(names: names, component: designation.component))
            await events.record(stored, type: designation.event.type, reason: designation.event.reason, message: designation.event.message)
        }
        election.written = written
        return election
    }

    /// Makes the recorded primary real: fences any other server that runs read-write, promotes the designated one if
    /// it is still a standby, and re-points the standbys that stream from elsewhere. Answers whether to look again
    /// (a promotion still under way).
    func completeFailover(
        _ engine: EngineComponent, replication: any ReplicationEngine, spec: ClusterComponentSpec,
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void
    ) async throws -> Bool {
        guard let designated = engine.designatedPrimary else { return false }
        try await unlabelFormerPrimaries(engine, designated: designated)
        let states = await replication.replicaStates(engine)
        let strays = FailoverPlan.strayPrimaries(states, designated: designated)
        for stray in strays {
            guard try await fence(stray, in: engine) else { continue }
            await report(
                .warning, "PrimaryFenced",
                "\(engine.component): \(stray) runs read-write but \(designated) is the primary; its pod is deleted and restarts as a standby (pg_rewind)")
        }
        // Never two writable servers: the designated one is promoted only once no other answers read-write (a
        // fenced primary shuts down cleanly first, and its WAL up to the shutdown reaches the standbys).
        guard strays.isEmpty else { return true }
        guard let primaryPod = engine.pods.first(where: { $0.metadata?.name == designated }), let state = states[designated] else {
            return false
        }
        try await keepSynchronousStandbys(engine, replication: replication, spec: spec, on: primaryPod)
        if state.inRecovery {
            guard try await replication.promote(primaryPod, in: engine) else { return true }
            await report(.normal, "Promoted", "\(engine.component): \(designated) was promoted and accepts writes")
        }
        // Before the standbys are re-pointed: each streams through its own slot, which must exist on the new primary.
        // A problem with the slots never holds back a failover: the next reconcile keeps them.
        if let slots = replication as? any SlotKeepingEngine {
            do {
                _ = try await keepReplicationSlots(engine, slots: slots, spec: spec, on: primaryPod, report: report)
            } catch {
                logger.warning("could not keep the replication slots", metadata: ["pod": "\(engine.names.namespace)/\(designated)", "error": "\(error)"])
            }
        }
        let repoint = FailoverPlan.standbysToRepoint(states, designated: designated) {
            replication.isFollowing($0, primary: primaryPod, in: engine)
        }
        for name in repoint {
            guard let pod = engine.pods.first(where: { $0.metadata?.name == name }) else { continue }
            try await replication.follow(pod, primary: primaryPod, in: engine)
            logger.info("re-pointed a standby", metadata: ["pod": "\(engine.names.namespace)/\(name)", "primary": "\(designated)"])
        }
        if !repoint.isEmpty {
            await report(.normal, "StandbysRepointed", "\(engine.component): \(repoint.joined(separator: ", ")) now stream from \(designated)")
        }
        return false
    }

    /// The primary label comes off every pod but the designated one at once, ready or not, so the read-write Service
    /// can never select a former primary that comes back before it is fenced.
    /// A pod that refuses holds back none of the others, but the failover stops there (the error is thrown once all
    /// were tried): nothing is promoted while a former primary may still carry the label.
    private func unlabelFormerPrimaries(_ engine: EngineComponent, designated: String) async throws {
        var failures = PodFailures()
        for pod in engine.pods where pod.metadata?.name != designated && pod.metadata?.labels?[ClusterNames.roleLabel] == PgvectorAdapter.primary {
            guard let name = pod.metadata?.name else { continue }
            do {
                _ = try await client.patch(
                    CoreV1.Pod.self, name: name, namespace: engine.names.namespace,
                    patch: .merge(["metadata": ["labels": [ClusterNames.roleLabel: .string(PgvectorAdapter.secondary)]]]))
            } catch let error as KubeAPIError where error.isNotFound {
                continue  // a pod that is gone carries no label
            } catch {
                failures.append(name, error)
            }
        }
        try failures.throwIfAny()
    }

    /// Deletes the pod of a server that must stop accepting writes; its volume stays, and the setup script rejoins
    /// it as a standby of the designated primary when the StatefulSet makes the pod again.
    /// Answers whether it deleted the pod now (false: it is already going, gone, or made again).
    private func fence(_ name: String, in engine: EngineComponent) async throws -> Bool {
        guard let pod = engine.pods.first(where: { $0.metadata?.name == name }), pod.metadata?.deletionTimestamp == nil else { return false }
        do {
            _ = try await client.delete(
                CoreV1.Pod.self, name: name, namespace: engine.names.namespace,
                preconditions: MetaV1.Preconditions(uid: pod.metadata?.uid))
            logger.warning("fenced a former primary", metadata: ["pod": "\(engine.names.namespace)/\(name)"])
            return true
        } catch let error as KubeAPIError where error.isNotFound || error.isConflict {
            // Gone, or made again since the cache saw it (the uid precondition): the next look fences the new pod
            // if its server still runs read-write; until then nothing is promoted.
            return false
        }
    }

    static func sooner(_ current: Duration?, _ candidate: Duration) -> Duration {
        current.map { min($0, candidate) } ?? candidate
    }
}

/// When each component's designated primary was first seen unavailable, for the failover delay. Kept in memory: an
/// operator that restarts waits the whole delay again, which errs on the side of not promoting.
actor PrimaryOutages {
    private var since: [EngineObservations.Key: ContinuousClock.Instant] = [:]

    func unavailableFor(_ key: EngineObservations.Key) -> Duration {
        let now = ContinuousClock.now
        let start = since[key] ?? now
        since[key] = start
        return now - start
    }

    func clear(_ key: EngineObservations.Key) {
        since[key] = nil
    }
}
