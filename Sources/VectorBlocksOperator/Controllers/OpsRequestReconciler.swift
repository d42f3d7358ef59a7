import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Carries out OpsRequests with KubeBlocks' semantics: a request is checked against its Cluster before anything
/// changes (a bad one fails with what to fix and never half-applies), waits in Pending while another holds the
/// Cluster, remembers the configuration it changes, edits the Cluster's spec, follows the Cluster controller's work
/// as "n/m", and ends Succeed, Failed or (for scaling) Cancelled. Each step is recorded in the status before the
/// next, so an operator that stops at any point is followed by one that finishes the request.
public struct OpsRequestReconciler: Reconciler {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let engines: EngineHooks
    let logger: Logger

    init(
        client: KubeClient, caches: OperatorCaches, events: EventRecorder, engines: EngineHooks,
        logger: Logger = Logger(label: "vectorblocks.opsrequest")
    ) {
        self.client = client
        self.engines = engines
        self.caches = caches
        self.events = events
        self.logger = logger
    }

    public static let validatedCondition = "Validated"
    public static let progressingCondition = "Progressing"
    public static let succeedCondition = "Succeed"
    public static let failedCondition = "Failed"

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let stored = await caches.opsRequests.get(key), let namespace = stored.metadata?.namespace,
            let name = stored.metadata?.name
        else { return .done }
        let ops = stored.withDefaults()
        let phase = ops.status?.phase
        let cluster = await caches.clusters.get(name: ops.spec.clusterRef, namespace: namespace)

        if stored.metadata?.deletionTimestamp != nil || [.succeed, .failed, .cancelled].contains(phase) {
            if let cluster { try await releaseLock(of: cluster, heldBy: name) }
            return try await expire(ops)
        }
        guard let cluster else {
            return try await fail(
                ops, reason: "ClusterNotFound",
                message: "spec.clusterRef: Cluster \"\(ops.spec.clusterRef)\" not found in namespace \"\(namespace)\"; name an existing Cluster",
                cluster: nil)
        }

        switch phase {
        case nil, .pending:
            return try await start(ops, cluster: cluster)
        case .creating:
            return try await edit(ops, cluster: cluster)
        case .running:
            if ops.spec.cancel == true { return try await cancel(ops, cluster: cluster) }
            return try await follow(ops, cluster: cluster)
        case .cancelling:
            return try await followCancel(ops, cluster: cluster)
        case .succeed, .failed, .cancelled:
            return .done
        }
    }

    // MARK: Steps

    /// What makes the request invalid, from the caches; a request found invalid there is validated again against
    /// the API server before it fails, since failing is final and the caches may not yet hold a ClusterVersion, or a
    /// Cluster's state, written a moment before the request.
    private func validationProblems(_ ops: OpsRequest, cluster: Cluster) async throws -> [FieldError] {
        let cached = OpsRequestPlan.validate(ops, cluster: cluster, versions: await caches.versions.cache.list())
        guard !cached.isEmpty, let name = cluster.metadata?.name else { return cached }
        let current = try await client.get(Cluster.self, name: name, namespace: cluster.metadata?.namespace)
        return OpsRequestPlan.validate(ops, cluster: current, versions: try await client.listAll(ClusterVersion.self).items)
    }

    private func start(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        let name = ops.metadata?.name ?? ""
        let problems = try await validationProblems(ops, cluster: cluster)
        guard problems.isEmpty else {
            return try await fail(ops, reason: "ValidateFailed", message: problems.map(\.description).joined(separator: "; "), cluster: cluster)
        }
        if let holder = cluster.metadata?.annotations?[OpsRequestPlan.lockAnnotation], holder != name {
            if let other = await caches.opsRequests.get(name: holder, namespace: cluster.metadata?.namespace ?? ""),
                ![.succeed, .failed, .cancelled].contains(other.status?.phase), other.metadata?.deletionTimestamp == nil
            {
                try await pending(ops, message: "waiting for OpsRequest \"\(holder)\" to finish on Cluster \"\(ops.spec.clusterRef)\"")
                return .done
            }
        }
        if cluster.metadata?.annotations?[OpsRequestPlan.lockAnnotation] != name {
            // The oldest waiting request goes first, so requests run in the order they were made.
            if let earlier = await waiting(for: cluster).first, earlier.metadata?.name != name {
                try await pending(
                    ops, message: "waiting for OpsRequest \"\(earlier.metadata?.name ?? "")\", made earlier, on Cluster \"\(ops.spec.clusterRef)\"")
                return .done
            }
            // Asked of the engine only when the request's turn has come, not on every look while it waits.
            if let refusal = await scaleInRefusal(ops, cluster: cluster) {
                return try await fail(ops, reason: "ValidateFailed", message: refusal, cluster: cluster)
            }
            var locked = cluster
            locked.metadata?.annotations = (cluster.metadata?.annotations ?? [:]).merging([OpsRequestPlan.lockAnnotation: name]) { $1 }
            _ = try await client.update(locked)
        }
        var status = ops.status ?? OpsRequestStatus()
        status.phase = .creating
        status.lastConfiguration = OpsRequestPlan.lastConfiguration(ops, cluster: cluster)
        status.startTimestamp = status.startTimestamp ?? .now()
        status.progress = "0/\(OpsRequestPlan.target(ops, cluster: cluster))"
        var conditions = status.conditions ?? []
        Conditions.set(
            &conditions, type: Self.validatedCondition, status: .true, reason: "ValidateOpsRequestPassed",
            message: "the request fits Cluster \"\(ops.spec.clusterRef)\"", observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
        return .done
    }

    private func edit(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        if ops.spec.type == .switchover { return try await designateSwitchover(ops, cluster: cluster) }
        var status = ops.status ?? OpsRequestStatus()
        let stamp = (status.startTimestamp ?? .now()).description
        let wanted = OpsRequestPlan.applied(ops, to: cluster, stamp: stamp)
        var generation = cluster.metadata?.generation ?? 0
        if wanted.spec != cluster.spec || wanted.metadata?.annotations != cluster.metadata?.annotations {
            let updated = try await client.update(wanted)
            generation = updated.metadata?.generation ?? generation
        }
        status.clusterGeneration = generation
        status.phase = .running
        var conditions = status.conditions ?? []
        Conditions.set(
            &conditions, type: Self.progressingCondition, status: .true, reason: "\(ops.spec.type.rawValue)Started",
            message: "Cluster \"\(ops.spec.clusterRef)\" is being changed", observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
        await events.record(ops, type: .normal, reason: "\(ops.spec.type.rawValue)Started", message: "changed the spec of Cluster \"\(ops.spec.clusterRef)\"")
        return .done
    }

    private func follow(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        var status = ops.status ?? OpsRequestStatus()
        let progress = await self.progress(ops, cluster: cluster)
        status.progress = "\(progress.done)/\(progress.total)"
        if progress.complete {
            status.phase = .succeed
            status.completionTimestamp = .now()
            var conditions = status.conditions ?? []
            Conditions.set(
                &conditions, type: Self.progressingCondition, status: .false, reason: "Completed",
                message: progress.message, observedGeneration: ops.metadata?.generation)
            Conditions.set(
                &conditions, type: Self.succeedCondition, status: .true, reason: "OpsRequestSucceed",
                message: progress.message, observedGeneration: ops.metadata?.generation)
            status.conditions = conditions
            try await publish(status, of: ops)
            try await releaseLockAtEnd(of: cluster, heldBy: ops.metadata?.name ?? "")
            await events.record(ops, type: .normal, reason: "OpsRequestSucceed", message: progress.message)
            return try await expire(ops)
        }
        try await publish(status, of: ops)
        // Load balancer addresses and resized volumes arrive without a change to the Cluster; look again shortly.
        return .requeue(after: .seconds(2))
    }

    private func cancel(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        var status = ops.status ?? OpsRequestStatus()
        if let last = status.lastConfiguration {
            let restored = OpsRequestPlan.restored(last, ops: ops, cluster: cluster)
            var generation = cluster.metadata?.generation ?? 0
            if restored.spec != cluster.spec {
                generation = try await client.update(restored).metadata?.generation ?? generation
            }
            status.clusterGeneration = generation
        }
        status.phase = .cancelling
        status.cancelTimestamp = .now()
        try await publish(status, of: ops)
        return .done
    }

    private func followCancel(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        guard OpsRequestPlan.reconciled(cluster, generation: ops.status?.clusterGeneration), cluster.status?.phase == .running else { return .done }
        var status = ops.status ?? OpsRequestStatus()
        status.phase = .cancelled
        status.completionTimestamp = .now()
        var conditions = status.conditions ?? []
        Conditions.set(
            &conditions, type: Self.progressingCondition, status: .false, reason: "Cancelled",
            message: "the last configuration is restored", observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
        try await releaseLockAtEnd(of: cluster, heldBy: ops.metadata?.name ?? "")
        await events.record(ops, type: .normal, reason: "OpsRequestCancelled", message: "restored the configuration of Cluster \"\(ops.spec.clusterRef)\"")
        return .done
    }

    // MARK: Progress

    /// What the request's components look like in the caches; the plan judges how far along the request is.
    func progress(_ ops: OpsRequest, cluster: Cluster) async -> OpsRequestPlan.Progress {
        if ops.spec.type == .switchover { return await switchoverProgress(ops, cluster: cluster) }
        guard let namespace = cluster.metadata?.namespace, let name = cluster.metadata?.name else {
            return OpsRequestPlan.Progress(done: 0, total: 0, complete: false, message: "")
        }
        let names = ClusterNames(cluster: name, namespace: namespace)
        var observed: [String: OpsRequestPlan.ComponentObservation] = [:]
        for component in cluster.spec.componentSpecs where OpsRequestPlan.touches(ops, component: component.name) {
            var observation = OpsRequestPlan.ComponentObservation()
            observation.pods = await caches.pods.list(namespace: namespace, selector: LabelSelector(matching: names.componentSelector(component.name)))
                .filter { $0.metadata?.deletionTimestamp == nil }
            observation.statefulSet = await caches.statefulSets.get(name: names.workload(component.name), namespace: namespace)
            for claim in OpsRequestPlan.grownClaims(ops, component: component, names: names) {
                observation.claimCapacities[claim.name] = await caches.volumeClaims.get(name: claim.name, namespace: namespace)?
                    .status?.capacity?["storage"]
            }
            for service in OpsRequestPlan.loadBalancers(ops, component: component, names: names) {
                let ingress = await caches.services.get(name: service, namespace: namespace)?.status?.loadBalancer?.ingress?.first
                observation.loadBalancers[service] = ingress?.hostname ?? ingress?.ip
            }
            observed[component.name] = observation
        }
        return OpsRequestPlan.progress(ops, cluster: cluster, names: names, observed: observed)
    }

    // MARK: Bookkeeping

    /// A horizontal scaling the engine can never carry out without losing data, found before the Cluster is edited.
    private func scaleInRefusal(_ ops: OpsRequest, cluster: Cluster) async -> String? {
        guard ops.spec.type == .horizontalScaling, let name = cluster.metadata?.name, let namespace = cluster.metadata?.namespace,
            let definition = await caches.definitions.cache.get(name: cluster.spec.clusterDefinitionRef)
        else { return nil }
        let names = ClusterNames(cluster: name, namespace: namespace)
        for (index, scaling) in (ops.spec.horizontalScaling ?? []).enumerated() {
            guard let component = cluster.spec.componentSpecs.first(where: { $0.name == scaling.componentName }),
                scaling.replicas > 0, scaling.replicas < component.replicas ?? 1,
                let adapter = engines.adapter(component, definition: definition)
            else { continue }
            let engine = await engines.engineComponent(component.name, names: names, credential: await caches.credential(of: names))
            if let reason = await adapter.scaleInRefusal(engine, to: scaling.replicas) {
                return "spec.horizontalScaling[\(index)].replicas: \(reason)"
            }
        }
        return nil
    }

    private func waiting(for cluster: Cluster) async -> [OpsRequest] {
        await caches.opsRequests.list(namespace: cluster.metadata?.namespace ?? "")
            .filter { $0.spec.clusterRef == cluster.metadata?.name && $0.metadata?.deletionTimestamp == nil }
            .filter { [nil, .pending].contains($0.status?.phase) }
            .sorted {
                ($0.metadata?.creationTimestamp?.description ?? "", $0.metadata?.name ?? "") < (
                    $1.metadata?.creationTimestamp?.description ?? "", $1.metadata?.name ?? ""
                )
            }
    }

    private func pending(_ ops: OpsRequest, message: String) async throws {
        var status = ops.status ?? OpsRequestStatus()
        status.phase = .pending
        var conditions = status.conditions ?? []
        Conditions.set(
            &conditions, type: Self.progressingCondition, status: .false, reason: "WaitForProgressing",
            message: message, observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
    }

    func fail(_ ops: OpsRequest, reason: String, message: String, cluster: Cluster?) async throws -> ReconcileResult {
        var status = ops.status ?? OpsRequestStatus()
        status.phase = .failed
        status.completionTimestamp = .now()
        var conditions = status.conditions ?? []
        if reason == "ValidateFailed" {
            Conditions.set(
                &conditions, type: Self.validatedCondition, status: .false, reason: reason, message: message,
                observedGeneration: ops.metadata?.generation)
        }
        Conditions.set(
            &conditions, type: Self.failedCondition, status: .true, reason: reason, message: message,
            observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
        await events.record(ops, type: .warning, reason: reason, message: message)
        if let cluster { try await releaseLockAtEnd(of: cluster, heldBy: ops.metadata?.name ?? "") }
        return .done
    }

    /// As a request ends, the lock is released on the Cluster as the API server has it: the cache may not show yet
    /// the lock the request took a moment ago, and an ended request is not looked at again when the Cluster changes.
    private func releaseLockAtEnd(of cluster: Cluster, heldBy name: String) async throws {
        guard let clusterName = cluster.metadata?.name else { return }
        let stored: Cluster
        do {
            stored = try await client.get(Cluster.self, name: clusterName, namespace: cluster.metadata?.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return
        }
        try await releaseLock(of: stored, heldBy: name)
    }

    private func releaseLock(of cluster: Cluster, heldBy name: String) async throws {
        guard cluster.metadata?.annotations?[OpsRequestPlan.lockAnnotation] == name,
            let resourceVersion = cluster.metadata?.resourceVersion, let clusterName = cluster.metadata?.name
        else { return }
        _ = try await client.patch(
            Cluster.self, name: clusterName, namespace: cluster.metadata?.namespace,
            patch: .merge(["metadata": ["annotations": .object([OpsRequestPlan.lockAnnotation: .null]), "resourceVersion": .string(resourceVersion)]]))
    }

    /// Deletes a finished request once its ttlSecondsAfterSucceed has passed.
    private func expire(_ ops: OpsRequest) async throws -> ReconcileResult {
        guard ops.status?.phase == .succeed, let ttl = ops.spec.ttlSecondsAfterSucceed,
            let completed = ops.status?.completionTimestamp?.date, let name = ops.metadata?.name
        else { return .done }
        let remaining = completed.addingTimeInterval(TimeInterval(ttl)).timeIntervalSinceNow
        if remaining > 0 { return .requeue(after: .milliseconds(Int64(remaining * 1000) + 100)) }
        do {
            try await client.delete(OpsRequest.self, name: name, namespace: ops.metadata?.namespace)
        } catch let error as KubeAPIError where error.isNotFound {}
        return .done
    }

    func publish(_ status: OpsRequestStatus, of ops: OpsRequest) async throws {
        guard status != ops.status, let name = ops.metadata?.name else { return }
        _ = try await client.patch(
            OpsRequest.descriptor, name: name, namespace: ops.metadata?.namespace,
            patch: .merge(["status": try JSONValue(encoding: status)]), subresource: "status")
    }

    /// The requests to look at when a Cluster changes: those that act on it and have not ended.
    public static func requests(
        for cluster: Cluster, in opsRequests: NamespacedInformers<OpsRequest>
    ) async -> [ObjectKey] {
        guard let namespace = cluster.metadata?.namespace else { return [] }
        return await opsRequests.list(namespace: namespace)
            .filter { $0.spec.clusterRef == cluster.metadata?.name && ![.succeed, .failed, .cancelled].contains($0.status?.phase) }
            .compactMap { ObjectKey($0) }
    }
}
