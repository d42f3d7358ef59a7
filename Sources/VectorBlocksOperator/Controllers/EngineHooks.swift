import Foundation
import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// The engine adapters' part of reconciling a Cluster: before its objects are applied, the replicas a shrinking
/// component keeps until its engine has readied the leaving pods; after, the volumes those pods leave behind, the
/// pods' role labels, and the engine's own setup once a component is ready.
struct EngineHooks: Sendable {
    let client: KubeClient
    let caches: OperatorCaches
    let adapters: EngineAdapters
    let addressing: PodAddressing
    let logger: Logger
    /// What each component's pods looked like when the engine was last asked about them.
    let observed = EngineObservations()
    let calls: EngineCallMetrics
    /// Since when each component's designated primary has been unavailable.
    let outages = PrimaryOutages()
    /// The synchronous_standby_names last found or made on each component's primary.
    let synchronousStandbys = AppliedSynchronousStandbys()
    /// What each component's replication slots were last made for, once settled.
    let slotsSettled = SettledReplicationSlots()
    /// Standbys seen stranded past a timeline fork, confirmed on the next look before they are rewound.
    let stalledStandbys = StalledStandbys()
    /// Standbys restarted to follow their primary, each restarted again only after a backoff.
    let standbyRestarts = StandbyRestarts()

    /// A component whose workload is larger than its spec asks: the engine's verdict, and the replicas to keep.
    struct ScaleIn: Sendable, Hashable {
        var step: ScaleInStep
        var from: Int32
        var to: Int32
    }

    func engineComponent(
        _ component: String, names: ClusterNames, credential: [String: String], designatedPrimary: String? = nil
    ) async -> EngineComponent {
        let pods = await caches.pods.list(namespace: names.namespace, selector: LabelSelector(matching: names.componentSelector(component)))
        return EngineComponent(
            names: names, component: component, pods: pods, credential: credential, addressing: addressing,
            designatedPrimary: designatedPrimary)
    }

    func adapter(_ component: ClusterComponentSpec, definition: ClusterDefinition) -> (any EngineAdapter)? {
        adapters.adapter(for: definition.componentDef(named: component.componentDefRef)?.characterType)
    }

    /// Stopping (replicas 0) keeps every volume and peer, so only a shrink to a smaller, non-zero size is a scale-in.
    func scaleIns(_ cluster: Cluster, definition: ClusterDefinition, names: ClusterNames, credential: [String: String]) async -> [String: ScaleIn] {
        var scaleIns: [String: ScaleIn] = [:]
        for component in cluster.spec.componentSpecs {
            let wanted = component.replicas ?? 1
            guard wanted > 0, let adapter = adapter(component, definition: definition),
                let current = await caches.statefulSets.get(name: names.workload(component.name), namespace: names.namespace)?.spec?.replicas,
                current > wanted
            else { continue }
            let engine = await engineComponent(component.name, names: names, credential: credential)
            calls.record(.prepareScaleIn)
            let step = await adapter.prepareScaleIn(engine, to: wanted)
            scaleIns[component.name] = ScaleIn(step: step, from: current, to: wanted)
            if step != .ready {
                logger.info("scale-in held", metadata: ["cluster": "\(names.namespace)/\(names.cluster)", "component": "\(component.name)", "step": "\(step)"])
            }
        }
        return scaleIns
    }

    /// Work after the objects are applied: a Replication component's recorded primary made real first. The engine is
    /// asked about roles and readiness only when the component's pods changed in a way that could change its answer
    /// (membership, readiness, addresses, role labels) since it last answered without a problem.
    func afterApply(
        _ cluster: Cluster, definition: ClusterDefinition, names: ClusterNames, credential: [String: String],
        report: @Sendable (EventRecorder.EventType, String, String) async -> Void = { _, _, _ in }
    ) async -> AfterApply {
        var problems: [String] = []
        var lookAgain = false
        var lookAgainIn: Duration?
        for component in cluster.spec.componentSpecs {
            guard let adapter = adapter(component, definition: definition) else { continue }
            let engine = await engineComponent(
                component.name, names: names, credential: credential,
                designatedPrimary: PrimaryDesignation.recorded(cluster, component: component.name))
            let wanted = component.replicas ?? 1
            let key = EngineObservations.Key(names: names, component: component.name)
            do {
                if adapter.deletesVolumesAfterScaleIn, wanted > 0 {
                    try await deleteLeftVolumes(engine, adapter: adapter, replicas: wanted)
                }
                // Before the pods' check: a change of the spec's synchronous number changes no pod.
                if let replication = adapter as? any ReplicationEngine, let primary = Self.readyDesignatedPod(engine),
                    primary.metadata?.labels?[ClusterNames.roleLabel] == PgvectorAdapter.primary
                {
                    try await keepSynchronousStandbys(engine, replication: replication, spec: component, on: primary)
                    if let slots = adapter as? any SlotKeepingEngine {
                        // A problem with the slots is reported on its own: it must not hold back the roles and the
                        // failover below, which would otherwise look again at standbys that are as they should be.
                        do {
                            if let after = try await keepReplicationSlots(engine, slots: slots, spec: component, on: primary, report: report) {
                                lookAgainIn = Self.sooner(lookAgainIn, after)
                            }
                        } catch {
                            problems.append("\(component.name): replication slots: \(ObjectApplier.reason(error))")
                        }
                    }
                }
                guard await observed.hasChanged(key, pods: engine.pods, designatedPrimary: engine.designatedPrimary) else { continue }
                if let replication = adapter as? any ReplicationEngine,
                    try await completeFailover(engine, replication: replication, spec: component, report: report)
                {
                    lookAgain = true
                    continue
                }
                calls.record(.roles)
                let roles = await adapter.roles(engine)
                try await label(engine, roles: roles)
                let complete = wanted > 0 && engine.pods.count == Int(wanted) && engine.pods.allSatisfy(ClusterStatusCalculator.isReady)
                if complete {
                    calls.record(.componentReady)
                    try await adapter.componentReady(engine)
                }
                // A ready pod the engine did not answer for is asked about again on the next reconcile.
                let answered =
                    !adapter.reportsRoles
                    || engine.pods.filter(ClusterStatusCalculator.isReady).allSatisfy { roles[$0.metadata?.name ?? ""] != nil }
                if answered { await observed.record(key, pods: engine.pods, designatedPrimary: engine.designatedPrimary) }
            } catch {
                problems.append("\(component.name): \(ObjectApplier.reason(error))")
            }
        }
        return AfterApply(problems: problems, lookAgain: lookAgain, lookAgainIn: lookAgainIn)
    }

    /// The problems met, each naming its component, and whether work is under way in an engine (a promotion).
    struct AfterApply: Sendable {
        var problems: [String]
        var lookAgain: Bool
        /// When to look at the engine again though nothing changes in Kubernetes (a standby away from its slot).
        var lookAgainIn: Duration? = nil
    }

    /// A Cluster that is gone leaves nothing behind.
    func forget(_ names: ClusterNames) async {
        await observed.forget(names)
    }

    /// The claims of ordinals at or past `replicas`, once the workload has shrunk, their pods are gone, and the engine
    /// confirms that the peers they served have left.
    private func deleteLeftVolumes(_ engine: EngineComponent, adapter: any EngineAdapter, replicas: Int32) async throws {
        let workload = engine.names.workload(engine.component)
        guard let statefulSet = await caches.statefulSets.get(name: workload, namespace: engine.names.namespace),
            let current = statefulSet.spec?.replicas, current <= replicas
        else { return }
        let claims = await caches.volumeClaims.list(
            namespace: engine.names.namespace, selector: LabelSelector(matching: engine.names.componentSelector(engine.component)))
        let left = claims.filter { claim in
            guard let name = claim.metadata?.name, name.contains("-\(workload)-"), claim.metadata?.deletionTimestamp == nil,
                let ordinal = EngineComponent.ordinal(inPodName: name)
            else { return false }
            return ordinal >= Int(replicas) && !engine.pods.contains { EngineComponent.ordinal(of: $0) == ordinal }
        }
        guard !left.isEmpty, await adapter.prepareScaleIn(engine, to: replicas) == .ready else { return }
        for claim in left {
            guard let name = claim.metadata?.name else { continue }
            do {
                try await client.delete(
                    CoreV1.PersistentVolumeClaim.self, name: name, namespace: engine.names.namespace,
                    preconditions: MetaV1.Preconditions(uid: claim.metadata?.uid))
                logger.info("deleted the volume of a removed peer", metadata: ["claim": "\(engine.names.namespace)/\(name)"])
            } catch let error as KubeAPIError where error.isNotFound {
                continue
            }
        }
    }

    /// Sets `apps.vectorblocks.io/role` on each pod whose engine-reported role differs from its label; a pod that
    /// refuses (a 409, a pod gone) holds back none of the others.
    private func label(_ engine: EngineComponent, roles: [String: String]) async throws {
        var failures = PodFailures()
        for pod in engine.pods {
            guard let name = pod.metadata?.name, let role = roles[name], pod.metadata?.labels?[ClusterNames.roleLabel] != role else { continue }
            do {
                _ = try await client.patch(
                    CoreV1.Pod.self, name: name, namespace: engine.names.namespace,
                    patch: .merge(["metadata": ["labels": [ClusterNames.roleLabel: .string(role)]]]))
                logger.info("labelled the pod's role", metadata: ["pod": "\(engine.names.namespace)/\(name)", "role": "\(role)"])
            } catch {
                failures.append(name, error)
            }
        }
        try failures.throwIfAny()
    }
}
