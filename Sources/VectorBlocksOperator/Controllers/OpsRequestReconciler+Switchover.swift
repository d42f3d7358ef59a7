import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// A Switchover moves a Replication component's primary on request. The request checks the candidate against what
/// the replicas report, checkpoints the primary (so its shutdown is short), and then writes the new primary into the
/// Cluster's status with the Cluster's resourceVersion as a precondition: the failover's compare-and-swap. From there
/// the Cluster controller does what it does after a failover: it fences the old primary (its pod is deleted, and the
/// container's fast shutdown sends its WAL to the standbys before it stops), promotes the designated standby once
/// no other server accepts writes, re-points the standbys, and the old primary's pod restarts as a standby.
extension OpsRequestReconciler {
    private struct SwitchoverStep {
        var component: String
        var from: String
        var to: String
        var engine: EngineComponent
        var replication: any ReplicationEngine
    }

    func designateSwitchover(_ ops: OpsRequest, cluster: Cluster) async throws -> ReconcileResult {
        guard let namespace = cluster.metadata?.namespace, let clusterName = cluster.metadata?.name else { return .done }
        let names = ClusterNames(cluster: clusterName, namespace: namespace)
        let definition = await caches.definitions.cache.get(name: cluster.spec.clusterDefinitionRef)
        let credential = await caches.credential(of: names)
        var steps: [SwitchoverStep] = []
        for (index, switchover) in (ops.spec.switchover ?? []).enumerated() {
            let path = "spec.switchover[\(index)]"
            guard let component = cluster.componentSpec(named: switchover.componentName), let definition,
                definition.componentDef(named: component.componentDefRef)?.workloadType == .replication,
                let replication = engines.adapter(component, definition: definition) as? any ReplicationEngine
            else {
                return try await fail(
                    ops, reason: "ValidateFailed",
                    message:
                        "\(path).componentName: Invalid value: \"\(switchover.componentName)\": not a Replication component with a primary (name a pgvector component)",
                    cluster: cluster)
            }
            guard let former = ops.status?.lastConfiguration?.components?[component.name]?.primary,
                let recorded = PrimaryDesignation.recorded(cluster, component: component.name)
            else {
                return try await fail(
                    ops, reason: "SwitchoverFailed",
                    message: "\(component.name): the operator has not recorded a primary yet; make the request again once the Cluster is Running",
                    cluster: cluster)
            }
            // Written by an earlier attempt whose own status update was lost: the switch is under way.
            guard recorded == former else { continue }
            let engine = await engines.engineComponent(component.name, names: names, credential: credential, designatedPrimary: recorded)
            let states = await replication.replicaStates(engine)
            let primaryPod = engine.pods.first { $0.metadata?.name == recorded }
            let choice = SwitchoverPlan.choose(switchover.instanceName, primary: recorded, states: states, pods: engine.pods) { state in
                primaryPod.map { replication.isFollowing(state, primary: $0, in: engine) } ?? false
            }
            switch choice {
            case .refused(let why):
                return try await fail(ops, reason: "SwitchoverFailed", message: "\(path).instanceName: \(why)", cluster: cluster)
            case .promote(let candidate):
                steps.append(SwitchoverStep(component: component.name, from: recorded, to: candidate, engine: engine, replication: replication))
            }
        }
        if !steps.isEmpty { try await designate(steps, in: cluster) }
        var status = ops.status ?? OpsRequestStatus()
        status.phase = .running
        var conditions = status.conditions ?? []
        Conditions.set(
            &conditions, type: Self.progressingCondition, status: .true, reason: "SwitchoverStarted",
            message: "Cluster \"\(clusterName)\": " + Self.describe(steps, cluster: cluster, ops: ops), observedGeneration: ops.metadata?.generation)
        status.conditions = conditions
        try await publish(status, of: ops)
        await events.record(
            ops, type: .normal, reason: "SwitchoverStarted", message: "Cluster \"\(clusterName)\": " + Self.describe(steps, cluster: cluster, ops: ops))
        return .requeue(after: .seconds(1))
    }

    /// The checkpoint first (best effort: it only shortens the shutdown), then the compare-and-swap: a 409 means
    /// someone else wrote the Cluster, and the work queue retries from the newer object, choosing again.
    private func designate(_ steps: [SwitchoverStep], in cluster: Cluster) async throws {
        for step in steps {
            guard let pod = step.engine.pods.first(where: { $0.metadata?.name == step.from }) else { continue }
            do {
                try await step.replication.checkpoint(pod, in: step.engine)
            } catch {
                logger.warning("checkpoint before a switchover failed", metadata: ["pod": "\(step.from)", "error": "\(error)"])
            }
        }
        let updated = PrimaryDesignation.recording(Dictionary(steps.map { ($0.component, $0.to) }, uniquingKeysWith: { $1 }), in: cluster)
        _ = try await client.updateStatus(updated)
        for step in steps {
            // The Cluster controller asks the engine again whatever its pods look like.
            await engines.observed.forget(EngineObservations.Key(names: step.engine.names, component: step.component))
            logger.info("switchover designated", metadata: ["component": "\(step.component)", "from": "\(step.from)", "to": "\(step.to)"])
            await events.record(
                cluster, type: .normal, reason: "SwitchoverStarted",
                message: "\(step.component): \(step.from) is demoted and \(step.to) promoted, as asked by a Switchover")
        }
    }

    private static func describe(_ steps: [SwitchoverStep], cluster: Cluster, ops: OpsRequest) -> String {
        let switches = (ops.spec.switchover ?? []).map { switchover in
            let former = ops.status?.lastConfiguration?.components?[switchover.componentName]?.primary ?? "?"
            let next =
                steps.first { $0.component == switchover.componentName }?.to
                ?? PrimaryDesignation.recorded(cluster, component: switchover.componentName) ?? "?"
            return "\(switchover.componentName): \(former) → \(next)"
        }
        return switches.joined(separator: ", ")
    }

    /// Two steps per component (SwitchoverPlan.progress). The target is the Cluster's recorded primary, which for
    /// `*` is the standby the request chose.
    func switchoverProgress(_ ops: OpsRequest, cluster: Cluster) async -> OpsRequestPlan.Progress {
        guard let namespace = cluster.metadata?.namespace, let clusterName = cluster.metadata?.name else {
            return OpsRequestPlan.Progress(done: 0, total: 0, complete: false, message: "")
        }
        let names = ClusterNames(cluster: clusterName, namespace: namespace)
        var done = 0
        var total = 0
        var switches: [String] = []
        for switchover in ops.spec.switchover ?? [] {
            let component = switchover.componentName
            let pods = await caches.pods.list(namespace: namespace, selector: LabelSelector(matching: names.componentSelector(component)))
            guard let former = ops.status?.lastConfiguration?.components?[component]?.primary,
                let designated = PrimaryDesignation.recorded(cluster, component: component), designated != former
            else {
                total += 2
                continue
            }
            let step = SwitchoverPlan.progress(from: former, to: designated, pods: pods)
            done += step.done
            total += step.total
            switches.append("\(component): \(designated) is the primary and \(former) its standby")
        }
        return OpsRequestPlan.Progress(
            done: done, total: total, complete: total > 0 && done == total,
            message: "Switchover of Cluster \"\(clusterName)\" is done: " + switches.joined(separator: "; "))
    }
}
