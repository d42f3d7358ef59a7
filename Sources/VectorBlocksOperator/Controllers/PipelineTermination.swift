import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI
import VectorSync

/// Deleting a VectorPipeline: Pelican and Emu stop first (their Deployments go, and the finalizer waits until the
/// API server has no pod of theirs left, so no Pelican can install the trigger again), then, with
/// `spec.source.onDelete: Remove` (the default), the trigger and the pipeline's rows of the `vectorsync` tables go;
/// the user's table is never touched. The ServiceAccount, ConfigMap and Service go with the garbage collector.
struct PipelineTermination: Sendable {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let source: PipelineSource
    let cleanup: PipelineSinkCleanup
    let logger: Logger

    func terminate(_ stored: VectorPipeline, names: PipelineNames) async throws -> ReconcileResult {
        guard (stored.metadata?.finalizers ?? []).contains(PipelineNames.finalizer) else { return .done }
        let pipeline = stored.withDefaults()
        if let waiting = try await stopWorkers(names) {
            try await report(stored, reason: "StoppingWorkers", message: waiting, warning: false)
            return .requeue(after: .seconds(1))
        }
        let dropped = try await dropSinkData(stored, pipeline: pipeline, names: names)
        if let waiting = dropped.waiting {
            try await report(dropped.pipeline, reason: "SinkDataDropWaiting", message: waiting, warning: true)
            return .requeue(after: .seconds(10))
        }
        // A pipeline whose source was never reached installed nothing there: its Pelican never ran (it is made only
        // once the Secret exists) or never connected, as the operator did not.
        let neverReached =
            stored.status?.backfill == nil
            && !Conditions.isTrue(stored.status?.conditions, type: VectorPipelineStatus.ConditionType.captureInstalled.rawValue)
        if pipeline.spec.source.onDelete != .keep, neverReached,
            case .failure = try await source.secretValue(
                pipeline.spec.source.connectionSecretRef, namespace: names.namespace, field: "spec.source.connectionSecretRef")
        {
            await events.record(
                stored, type: .normal, reason: "SourceStateNotInstalled",
                message: "the source database was never reached, so there is no trigger or state to remove")
        } else if pipeline.spec.source.onDelete != .keep {
            let removed = try await source.withSource(pipeline, namespace: names.namespace) { [logger] connection in
                try await PipelineState.remove(
                    pipeline: names.sourceStateName, table: pipeline.spec.source.table, connection: connection, logger: logger)
            }
            if case .failure(let failure) = removed {
                try await report(
                    stored, reason: "SourceStateNotRemoved",
                    message:
                        "cannot remove the capture trigger and the pipeline's state: \(failure.message); restore access, or set spec.source.onDelete to Keep to leave them",
                    warning: true)
                return .requeue(after: .seconds(10))
            }
            logger.info("removed the pipeline's state from the source", metadata: ["pipeline": "\(names.namespace)/\(names.pipeline)"])
        }
        try await removeFinalizer(from: stored)
        return .done
    }

    /// Every sink of the pipeline is removed with it: the data of those with `deletionPolicy: Delete` is dropped
    /// (their workers are stopped by now), and the status and Events say what became of each. Returns what a drop
    /// still waits for, nil once none does.
    func dropSinkData(
        _ stored: VectorPipeline, pipeline: VectorPipeline, names: PipelineNames
    ) async throws -> (waiting: String?, pipeline: VectorPipeline) {
        let recorded = VectorPipelineStatus(
            sinks: pipeline.spec.sinks.map {
                VectorPipelineStatus.SinkStatus(name: $0.name, deletionPolicy: $0.deletionPolicy, target: $0.target.resolved(in: names.namespace))
            }, removedSinks: stored.status?.removedSinks)
        let removed = PipelineSinkRemoval.removedSinks(previous: recorded, spec: [], namespace: names.namespace, now: .now())
        guard removed.contains(where: { $0.deletionPolicy == .delete }) else { return (nil, stored) }
        let advanced = try await cleanup.advance(removed, of: pipeline, names: names)
        var updated = stored
        if advanced != stored.status?.removedSinks, let name = stored.metadata?.name {
            for event in PipelineSinkEvents.removals(stored.status?.removedSinks, advanced) {
                await events.record(stored, type: event.warning ? .warning : .normal, reason: event.reason, message: event.message)
            }
            var conditions = stored.status?.conditions ?? []
            for condition in PipelineSinkRemoval.conditions(advanced) {
                Conditions.set(
                    &conditions, type: condition.type.rawValue, status: condition.isTrue ? .true : .false, reason: condition.reason,
                    message: condition.message, observedGeneration: stored.metadata?.generation)
            }
            _ = try await client.patch(
                VectorPipeline.descriptor, name: name, namespace: names.namespace,
                patch: .merge(["status": ["removedSinks": try JSONValue(encoding: advanced), "conditions": try JSONValue(encoding: conditions)]]),
                subresource: "status")
            var status = stored.status ?? VectorPipelineStatus()
            status.removedSinks = advanced
            status.conditions = conditions
            updated.status = status
        }
        let pending = advanced.filter { $0.state == .pending }
        guard !pending.isEmpty else { return (nil, updated) }
        return (
            "dropping the data of sinks with deletionPolicy Delete: "
                + pending.map { "sink \($0.name): \($0.message ?? "pending")" }.joined(separator: "; ")
                + "; set a sink's deletionPolicy to Retain to let the deletion go on without dropping it", updated
        )
    }

    /// Deletes the workers' Deployments and HPA; returns what is still running, or nil once the server shows none.
    func stopWorkers(_ names: PipelineNames) async throws -> String? {
        for name in [names.pelicanDeployment, names.emuDeployment] {
            try await deleteIgnoringAbsence(AppsV1.Deployment.descriptor, name: name, namespace: names.namespace)
        }
        try await deleteIgnoringAbsence(AutoscalingV2.HorizontalPodAutoscaler.descriptor, name: names.emuDeployment, namespace: names.namespace)
        var left: [String] = []
        let selector = names.selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        for kind in [AppsV1.Deployment.descriptor, CoreV1.Pod.descriptor] {
            let list = try await client.list(kind, namespace: names.namespace, options: ListOptions(labelSelector: selector))
            left += list.items.compactMap { $0["metadata"]?["name"]?.stringValue.map { "\(kind.kind)/\($0)" } }
        }
        return left.isEmpty ? nil : "waiting for Pelican and Emu to stop: \(left.sorted().joined(separator: ", "))"
    }

    private func deleteIgnoringAbsence(_ kind: ResourceDescriptor, name: String, namespace: String) async throws {
        do {
            try await client.delete(
                kind, name: name, namespace: namespace,
                options: MetaV1.DeleteOptions(propagationPolicy: PropagationPolicy.background.rawValue))
        } catch let error as KubeAPIError where error.isNotFound {
            return
        }
    }

    /// A Ready=False condition saying what the deletion waits for; an Event only when that changes.
    private func report(_ stored: VectorPipeline, reason: String, message: String, warning: Bool) async throws {
        let type = VectorPipelineStatus.ConditionType.ready.rawValue
        var conditions = stored.status?.conditions ?? []
        let previous = Conditions.find(conditions, type: type)
        guard
            Conditions.set(
                &conditions, type: type, status: .false, reason: reason, message: message,
                observedGeneration: stored.metadata?.generation), let name = stored.metadata?.name
        else { return }
        if previous?.reason != reason {
            await events.record(stored, type: warning ? .warning : .normal, reason: reason, message: message)
        }
        _ = try await client.patch(
            VectorPipeline.descriptor, name: name, namespace: stored.metadata?.namespace,
            patch: .merge(["status": ["conditions": try JSONValue(encoding: conditions)]]), subresource: "status")
    }

    private func removeFinalizer(from pipeline: VectorPipeline) async throws {
        guard let name = pipeline.metadata?.name, let resourceVersion = pipeline.metadata?.resourceVersion else { return }
        let finalizers = (pipeline.metadata?.finalizers ?? []).filter { $0 != PipelineNames.finalizer }
        _ = try await client.patch(
            VectorPipeline.self, name: name, namespace: pipeline.metadata?.namespace,
            patch: .merge(["metadata": ["finalizers": .array(finalizers.map(JSONValue.string)), "resourceVersion": .string(resourceVersion)]]))
    }
}
