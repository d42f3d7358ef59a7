import Crypto
import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI
import VectorSync

/// Runs each VectorPipeline: its ServiceAccount, settings, Pelican and Emu Deployments and metrics Service from the
/// pure `PipelineObjectsBuilder`, applied only when they drift and pruned when no longer wanted; Emu's replicas
/// from the backlog (`BacklogScaler`); the status from the pipeline's state in the source database, written only
/// when it changed; Events on every phase transition. Level-triggered: what it waits for (a Secret, a sink's
/// Cluster) is a condition and an Event naming the field, and it proceeds by itself once that appears.
public struct PipelineReconciler: Reconciler {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let images: PipelineImages
    let applier: ObjectApplier
    let source: PipelineSource
    let cleanup: PipelineSinkCleanup
    /// How often a pipeline's status (backlog, lag, backfill) and Emu's replicas are looked at again.
    let statusInterval: Duration
    let logger: Logger
    let statusWrites = OwnStatusWrites<VectorPipelineStatus>()

    public static let fieldManager = ClusterNames.fieldManager
    /// The kinds the controller makes and prunes, in the order it applies them.
    static let ownedKinds: [ResourceDescriptor] = [
        CoreV1.ServiceAccount.descriptor, CoreV1.ConfigMap.descriptor, CoreV1.Service.descriptor, AppsV1.Deployment.descriptor,
        AutoscalingV2.HorizontalPodAutoscaler.descriptor,
    ]

    init(
        client: KubeClient, caches: OperatorCaches, events: EventRecorder, images: PipelineImages, statusInterval: Duration,
        logger: Logger = Logger(label: "vectorblocks.pipeline")
    ) {
        self.client = client
        self.caches = caches
        self.events = events
        self.images = images
        self.applier = ObjectApplier(client: client, fieldManager: Self.fieldManager)
        let source = PipelineSource(client: client, logger: logger)
        self.source = source
        self.cleanup = PipelineSinkCleanup(client: client, caches: caches, source: source, logger: logger)
        self.statusInterval = statusInterval
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let cached = await caches.pipelines.get(key), let namespace = cached.metadata?.namespace, let name = cached.metadata?.name else {
            statusWrites.forget(key)
            return .done
        }
        // Cooldowns, removed sinks and Events are decided from the status last written, not a cache behind it.
        var stored = cached
        stored.status = statusWrites.known(key, cachedVersion: cached.metadata?.resourceVersion, cached: cached.status)
        let names = PipelineNames(pipeline: name, namespace: namespace)
        if stored.metadata?.deletionTimestamp != nil {
            do {
                return try await PipelineTermination(client: client, caches: caches, events: events, source: source, cleanup: cleanup, logger: logger)
                    .terminate(stored, names: names)
            } catch let error as KubeAPIError where error.isNotFound && error.message.contains(VectorPipeline.descriptor.plural) {
                // The cache still held a pipeline whose finalizer an earlier reconcile removed: it is gone.
                return .done
            }
        }
        if !(stored.metadata?.finalizers ?? []).contains(PipelineNames.finalizer) {
            // Before any object: no worker may outlive a deletion that did not see it.
            try await addFinalizer(to: stored)
            return .done
        }
        let pipeline = stored.withDefaults()
        var observation = PipelineObservation(sourceStateName: names.sourceStateName)
        let secrets = try await source.missingSecrets(of: pipeline, namespace: namespace)
        observation.sourceSecretMissing = secrets.source != nil
        observation.missingSecrets = (secrets.source.map { [$0.message] } ?? []) + secrets.others
        if secrets.source == nil {
            observation.source = try await source.withSource(pipeline, namespace: namespace) { [logger] connection in
                try await PipelineState.read(pipeline: names.sourceStateName, table: pipeline.spec.source.table, connection: connection, logger: logger)
            }
        }
        observation.sqsBacklog = try await source.sqsBacklog(pipeline, namespace: namespace)
        let scaling = decideReplicas(pipeline, stored: stored, backlog: observation.backlog)
        observation.emuReplicas = pipeline.spec.scaling?.mode == .cpu ? nil : scaling.replicas
        observation.lastScaleTime = scaling.lastScaleTime

        var applyProblem: String?
        let clusters = await sinkClusters(of: pipeline, namespace: namespace)
        do {
            let plan = try PipelineObjectsBuilder.plan(
                PipelineBuildInput(
                    pipeline: pipeline, images: images, sinkClusters: clusters, emuReplicas: scaling.replicas))
            observation.sinkWaits = plan.sinkWaits
            // Without the source's Secret no worker can start; with a sink's credential missing, Emu cannot.
            var objects = plan.objects
            if observation.sourceSecretMissing {
                objects.removeAll { $0.resource == AppsV1.Deployment.descriptor || $0.resource == AutoscalingV2.HorizontalPodAutoscaler.descriptor }
            } else if !secrets.others.isEmpty {
                objects.removeAll { $0.name == names.emuDeployment }
            }
            applyProblem = await converge(objects, of: stored, names: names)
        } catch {
            observation.specProblems = error.problems
        }
        // After Emu's Deployment was applied without them: a removed sink's data goes once no Emu pod writes it.
        let removed = PipelineSinkRemoval.removedSinks(previous: stored.status, spec: pipeline.spec.sinks, namespace: namespace, now: .now())
        observation.removedSinks = try await cleanup.advance(removed, of: pipeline, names: names)
        observation.pelican = await caches.deployments.get(name: names.pelicanDeployment, namespace: namespace).map(WorkloadState.init)
        observation.emu = await caches.deployments.get(name: names.emuDeployment, namespace: namespace).map(WorkloadState.init)
        try await publish(PipelineStatusCalculator.status(for: stored, observation: observation, now: .now()), of: stored)
        if let applyProblem { throw ApplyFailure(message: applyProblem) }
        // Spec errors wait for an edit, which the informer delivers; everything else is looked at again.
        let dropWaits = observation.removedSinks?.contains { $0.state == .pending } == true
        return observation.specProblems.isEmpty || dropWaits ? .requeue(after: statusInterval) : .done
    }

    struct ScalingOutcome {
        var replicas: Int32
        var lastScaleTime: MetaV1.Time?
    }

    func decideReplicas(_ pipeline: VectorPipeline, stored: VectorPipeline, backlog: Int64?) -> ScalingOutcome {
        let scaling = pipeline.spec.scaling ?? VectorPipelineSpec.Scaling()
        let current = stored.status?.emuReplicas
        let lastScale = stored.status?.lastScaleTime
        // Without a fresh backlog, keep what runs (or start at the minimum).
        guard let backlog else {
            return ScalingOutcome(replicas: current ?? max(scaling.minReplicas ?? 1, 0), lastScaleTime: lastScale)
        }
        let now = Date()
        let decision = BacklogScaler.decide(
            current: current, backlog: backlog, scaling: scaling, lastScale: lastScale?.date, now: now)
        return ScalingOutcome(replicas: decision.replicas, lastScaleTime: decision.changed ? MetaV1.Time(now) : lastScale)
    }

    /// What the operator sees of each sink's Cluster: its phase, its definition's type and its credential's keys.
    func sinkClusters(of pipeline: VectorPipeline, namespace: String) async -> [String: SinkClusterObservation] {
        var observations: [String: SinkClusterObservation] = [:]
        for sink in pipeline.spec.sinks {
            guard let reference = sink.clusterRef, (reference.namespace ?? namespace) == namespace,
                let cluster = await caches.clusters.get(name: reference.name, namespace: namespace)
            else { continue }
            let credentialName = ClusterNames(cluster: reference.name, namespace: namespace).credentialSecret
            let credential = await caches.secrets.get(name: credentialName, namespace: namespace)
            let definition = await caches.definitions.cache.get(name: cluster.spec.clusterDefinitionRef)
            observations[sink.name] = SinkClusterObservation(
                phase: cluster.status?.phase, definitionType: definition?.spec.type ?? definition?.metadata?.name,
                credentialKeys: credential.map { Set(($0.data ?? [:]).keys) },
                credentialDigest: credential.map { Self.digest(of: $0.data ?? [:]) })
        }
        return observations
    }

    /// Applies what drifted and prunes what the pipeline controls but no longer wants; returns what the server refused.
    func converge(_ desired: [DesiredObject], of stored: VectorPipeline, names: PipelineNames) async -> String? {
        let observed = await observeOwned(by: stored, names: names)
        let outcome = await applier.apply(desired, observed: observed.byKey)
        if !outcome.applied.isEmpty {
            logger.debug("applied", metadata: ["pipeline": "\(names.namespace)/\(names.pipeline)", "objects": "\(outcome.applied.joined(separator: ","))"])
        }
        var problems = outcome.failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        let wanted = Set(desired.map(\.description))
        for (objectKey, object) in observed.controlled.sorted(by: { $0.key < $1.key }) where !wanted.contains(objectKey) {
            do {
                try await client.delete(
                    object.kind, name: object.name, namespace: names.namespace,
                    options: MetaV1.DeleteOptions(propagationPolicy: PropagationPolicy.background.rawValue))
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            } catch {
                problems.append("\(objectKey): \(ObjectApplier.reason(error))")
            }
        }
        guard !problems.isEmpty else { return nil }
        await events.record(stored, type: .warning, reason: "ApplyResourcesFailed", message: problems.joined(separator: "; "))
        return problems.joined(separator: "; ")
    }

    struct ObservedObjects {
        var byKey: [String: JSONValue] = [:]
        var controlled: [String: (kind: ResourceDescriptor, name: String)] = [:]
    }

    func observeOwned(by stored: VectorPipeline, names: PipelineNames) async -> ObservedObjects {
        var observed = ObservedObjects()
        let selector = LabelSelector(matching: names.selector)
        func collect<Object: KubernetesObject>(_ informers: NamespacedInformers<Object>) async {
            for object in await informers.list(namespace: names.namespace, selector: selector) {
                guard let json = try? JSONValue(encoding: object), let objectName = object.metadata?.name else { continue }
                let key = "\(Object.descriptor.kind)/\(objectName)"
                observed.byKey[key] = json
                if Self.isControlled(json, by: stored.metadata?.uid) { observed.controlled[key] = (Object.descriptor, objectName) }
            }
        }
        await collect(caches.serviceAccounts)
        await collect(caches.configMaps)
        await collect(caches.services)
        await collect(caches.deployments)
        await collect(caches.autoscalers)
        return observed
    }

    /// 16 hex digits of SHA-256 over the sorted keys and values: changes with any value, reveals none.
    static func digest(of data: [String: String]) -> String {
        let text = data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func isControlled(_ object: JSONValue, by uid: String?) -> Bool {
        guard let uid, case .array(let references)? = object["metadata"]?["ownerReferences"] else { return false }
        return references.contains { $0["uid"]?.stringValue == uid && $0["controller"] == .bool(true) }
    }

    /// Writes the status when it changed, with an Event for a new phase or a new dead letter.
    func publish(_ status: VectorPipelineStatus, of stored: VectorPipeline) async throws {
        guard status != stored.status, let name = stored.metadata?.name else { return }
        if status.phase != stored.status?.phase, let phase = status.phase {
            let ready = Conditions.find(status.conditions, type: VectorPipelineStatus.ConditionType.ready.rawValue)
            let warning = phase == .failed || phase == .degraded || (phase == .pending && stored.status?.phase != nil)
            await events.record(
                stored, type: warning ? .warning : .normal, reason: "Pipeline\(phase.rawValue)",
                message: "phase \(stored.status?.phase?.rawValue ?? "none") → \(phase.rawValue): \(ready?.message ?? "")")
        } else if status.phase == .pending, let ready = Conditions.find(status.conditions, type: VectorPipelineStatus.ConditionType.ready.rawValue),
            ready.message != Conditions.find(stored.status?.conditions, type: ready.type)?.message
        {
            // A new reason to wait (a Secret now found, a Cluster now missing) is news even within one phase.
            await events.record(stored, type: .warning, reason: ready.reason, message: ready.message)
        }
        if (status.deadLetters ?? 0) > (stored.status?.deadLetters ?? 0) {
            await events.record(
                stored, type: .warning, reason: "MessagesDeadLettered",
                message:
                    "\((status.deadLetters ?? 0) - (stored.status?.deadLetters ?? 0)) new dead letters; the last error: \(status.lastDeadLetterError ?? "none recorded")"
            )
        }
        for event in PipelineSinkEvents.between(stored.status, status) {
            await events.record(stored, type: event.warning ? .warning : .normal, reason: event.reason, message: event.message)
        }
        if let replicas = status.emuReplicas, let before = stored.status?.emuReplicas, replicas != before {
            await events.record(
                stored, type: .normal, reason: "EmuScaled",
                message: "Emu \(before) → \(replicas) replicas for a backlog of \(status.backlog ?? 0)")
        }
        var body = try JSONValue(encoding: status)
        // A merge patch leaves absent keys alone; what the new status no longer says must be cleared.
        body = body.withExplicitNulls(for: ["lastDeadLetterError", "emuReplicas", "lastScaleTime", "removedSinks"])
        let written = try await client.patch(
            VectorPipeline.descriptor, name: name, namespace: stored.metadata?.namespace, patch: .merge(["status": body]),
            subresource: "status")
        statusWrites.record(status, over: stored, response: written)
    }

    private func addFinalizer(to pipeline: VectorPipeline) async throws {
        guard let name = pipeline.metadata?.name, let resourceVersion = pipeline.metadata?.resourceVersion else { return }
        let finalizers = (pipeline.metadata?.finalizers ?? []) + [PipelineNames.finalizer]
        _ = try await client.patch(
            VectorPipeline.self, name: name, namespace: pipeline.metadata?.namespace,
            patch: .merge(["metadata": ["finalizers": .array(finalizers.map(JSONValue.string)), "resourceVersion": .string(resourceVersion)]]))
    }

    struct ApplyFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The pipelines whose sinks name the Cluster `name` in `namespace`.
    public static func pipelines(sinkingInto name: String, namespace: String, in pipelines: NamespacedInformers<VectorPipeline>) async -> [ObjectKey] {
        await pipelines.list(namespace: namespace).filter { pipeline in
            pipeline.spec.sinks.contains { $0.clusterRef?.name == name && ($0.clusterRef?.namespace ?? namespace) == namespace }
        }.compactMap { ObjectKey($0) }
    }
}
