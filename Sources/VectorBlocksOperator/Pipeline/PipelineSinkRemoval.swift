import KubeKit
import OperatorKit
import VectorBlocksAPI
import VectorSync

/// The decisions about a removed sink's data, as pure functions: which sinks were removed (their targets, recorded in
/// the status while they were in the spec, no longer in it), whether a `Delete` sink's drop may go ahead (no Emu pod
/// still writes it, no other pipeline writes it), what the drop's outcome makes of it, and the conditions that say so.
/// A sink is known by where its data lives, not by its name: a sink renamed keeps its data.
enum PipelineSinkRemoval {
    /// The removed sinks after this look at the spec: those listed before whose target is not back in the spec, and
    /// the status's sinks whose target the spec no longer has, newest last; at most `RemovedSink.kept`, the oldest
    /// settled ones giving way.
    static func removedSinks(
        previous: VectorPipelineStatus?, spec: [VectorPipelineSpec.Sink], namespace: String, now: MetaV1.Time
    ) -> [RemovedSink] {
        let wanted = Set(spec.map { $0.target.resolved(in: namespace) })
        var removed = (previous?.removedSinks ?? []).filter { !wanted.contains($0.target.resolved(in: namespace)) }
        for sink in previous?.sinks ?? [] {
            guard let target = sink.target?.resolved(in: namespace), !wanted.contains(target) else { continue }
            let policy = sink.deletionPolicy ?? .retain
            // Already listed: the same removal, seen again (a target back in the spec left the list above). A drop
            // still waiting is let go when the policy became Retain, which is how a drop that cannot succeed is ended.
            if let listed = removed.firstIndex(where: { $0.target.resolved(in: namespace) == target }) {
                guard removed[listed].state == .pending, policy == .retain else { continue }
                removed.remove(at: listed)
            }
            removed.append(
                RemovedSink(
                    name: sink.name, target: target, deletionPolicy: policy, state: policy == .delete ? .pending : .retained,
                    message: policy == .delete
                        ? "waiting for Emu's rollout without the sink to end" : "deletionPolicy is Retain: the \(target.description) keeps its data",
                    time: now))
        }
        while removed.count > RemovedSink.kept, let oldest = removed.firstIndex(where: { $0.state.isSettled }) {
            removed.remove(at: oldest)
        }
        return removed
    }

    /// Whether a pod's containers write `target`: the table or collection is among Emu's sinks and the address it
    /// writes to is the target's (a Cluster's credential, or the endpoint). Errs towards yes: a pod that might still
    /// write the sink would create it again after the drop.
    static func writes(_ pod: CoreV1.PodSpec?, target: SinkTarget, namespace: String) -> Bool {
        let credential = target.clusterRef.map { ClusterNames(cluster: $0.name, namespace: namespace).credentialSecret }
        return (pod?.containers ?? []).contains { container in
            let env = container.env ?? []
            func value(_ name: String) -> CoreV1.EnvVar? { env.first { $0.name == name } }
            func fromTarget(_ variable: String, endpointKey: (CoreV1.EnvVar) -> Bool) -> Bool {
                guard let variable = value(variable) else { return false }
                if let credential { return variable.valueFrom?.secretKeyRef?.name == credential }
                return endpointKey(variable)
            }
            switch target.kind {
            case .pgvector:
                let args = container.args ?? []
                let named = zip(args, args.dropFirst()).contains { $0 == "--pgvector-table" && $1 == target.collection }
                guard named else { return false }
                let user = credential == nil ? "VECTORSYNC_PGVECTOR_URL" : "VB_PGVECTOR_USER"
                return fromTarget(user) { variable in
                    if let reference = target.endpoint?.credentialsSecretRef {
                        return variable.valueFrom?.secretKeyRef?.name == reference.name && variable.valueFrom?.secretKeyRef?.key == reference.key
                    }
                    return variable.value == target.endpoint?.url
                }
            case .qdrant:
                guard value("VECTORSYNC_QDRANT_COLLECTION")?.value == target.collection else { return false }
                return fromTarget("VECTORSYNC_QDRANT_URL") { $0.value == target.endpoint?.url }
            }
        }
    }

    /// What the drop of a pending sink waits for, nil when it may go ahead.
    static func wait(
        for entry: RemovedSink, emuPods: [(name: String, spec: CoreV1.PodSpec?)], emuRolledOut: Bool, otherWriters: [String], namespace: String
    ) -> String? {
        let writing = emuPods.filter { writes($0.spec, target: entry.target, namespace: namespace) }.map(\.name).sorted()
        if !writing.isEmpty {
            return "waiting for Emu's rollout without the sink to end: the pods \(writing.joined(separator: ", ")) still write the \(entry.target.description)"
        }
        if !emuRolledOut { return "waiting for Emu's rollout without the sink to end: the Deployment has not observed its new template yet" }
        if !otherWriters.isEmpty {
            return "the pipelines \(otherWriters.sorted().joined(separator: ", ")) write the \(entry.target.description) too: it is dropped once none does"
        }
        return nil
    }

    /// The entry after a drop was tried: dropped, absent, or kept because `maker` did not make it.
    static func settle(_ entry: RemovedSink, outcome: SinkDataDrop.Outcome, maker: String, now: MetaV1.Time) -> RemovedSink {
        var entry = entry
        entry.time = now
        switch outcome {
        case .dropped:
            entry.state = .deleted
            entry.message = "dropped the \(entry.target.description)"
        case .absent:
            entry.state = .gone
            entry.message = "the \(entry.target.description) does not exist: nothing to drop"
        case .madeByOther(let other):
            entry.state = .kept
            entry.message =
                "the \(entry.target.description) was not made by this pipeline (its record names \(other.map { "\"\($0)\"" } ?? "no pipeline"), not \"\(maker)\"), so its data is kept; drop it by hand if it should go"
        }
        return entry
    }

    /// An entry whose drop could not be tried or failed: still pending, saying why; retried on the next look.
    static func waiting(_ entry: RemovedSink, because message: String, now: MetaV1.Time) -> RemovedSink {
        var entry = entry
        if entry.message != message { entry.time = now }
        entry.message = message
        return entry
    }

    struct ConditionValue: Sendable, Hashable {
        var type: VectorPipelineStatus.SinkRemovalCondition
        var isTrue: Bool
        var reason: String
        var message: String
    }

    /// RemovedSinksDeleted and SinkDataNotDeleted, once any sink with `deletionPolicy: Delete` was removed.
    static func conditions(_ removed: [RemovedSink]) -> [ConditionValue] {
        let deleting = removed.filter { $0.deletionPolicy == .delete }
        guard !deleting.isEmpty else { return [] }
        func list(_ entries: [RemovedSink]) -> String {
            entries.map { "sink \($0.name): \($0.message ?? $0.state.rawValue)" }.joined(separator: "; ")
        }
        let pending = deleting.filter { $0.state == .pending }
        let kept = deleting.filter { $0.state == .kept }
        let done = deleting.filter { $0.state == .deleted || $0.state == .gone }
        return [
            pending.isEmpty
                ? ConditionValue(
                    type: .removedSinksDeleted, isTrue: kept.isEmpty, reason: kept.isEmpty ? "SinkDataDropped" : "SinkDataKept",
                    message: kept.isEmpty ? list(done) : list(kept))
                : ConditionValue(type: .removedSinksDeleted, isTrue: false, reason: "SinkDataDropWaiting", message: list(pending)),
            kept.isEmpty
                ? ConditionValue(
                    type: .sinkDataNotDeleted, isTrue: false, reason: "NoneKept",
                    message: "no removed sink with deletionPolicy Delete was kept")
                : ConditionValue(type: .sinkDataNotDeleted, isTrue: true, reason: "NotMadeByThisPipeline", message: list(kept)),
        ]
    }
}
