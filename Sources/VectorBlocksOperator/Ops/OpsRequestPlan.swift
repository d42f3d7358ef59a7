import KubeKit
import VectorBlocksAPI

/// What an OpsRequest does to its Cluster, as pure functions: the checks that need the Cluster, the configuration
/// to remember, the edited Cluster, and the Cluster restored on cancel. An OpsRequest only edits the Cluster; the
/// Cluster controller does the work (DESIGN §1).
public enum OpsRequestPlan {
    /// The Cluster annotation that says which OpsRequest holds the Cluster: one operation at a time.
    public static let lockAnnotation = "\(VectorBlocksAPI.group)/ops-request"
    /// Replicas per component before a Stop, so Start brings the same number back.
    public static let stoppedReplicasAnnotation = "\(VectorBlocksAPI.group)/stopped-replicas"

    /// Every problem that makes the request impossible on this Cluster, before anything is changed.
    public static func validate(
        _ ops: OpsRequest, cluster: Cluster, versions: [ClusterVersion]
    ) -> [FieldError] {
        var errors = ops.validate(cluster: cluster)
        let spec = FieldPath("spec")
        for (index, scaling) in (ops.spec.verticalScaling ?? []).enumerated() {
            guard let component = cluster.componentSpec(named: scaling.componentName) else { continue }
            let merged = mergedResources(component.resources, scaling)
            errors += merged.validate(at: spec.child("verticalScaling").index(index))
                .filter { error in !errors.contains { $0.field == error.field } }
        }
        if ops.spec.type == .upgrade, let upgrade = ops.spec.upgrade {
            let field = spec.child("upgrade").child("clusterVersionRef").description
            if let version = versions.first(where: { $0.metadata?.name == upgrade.clusterVersionRef }) {
                if version.spec.clusterDefinitionRef != cluster.spec.clusterDefinitionRef {
                    errors.append(
                        FieldError(
                            field: field,
                            message:
                                "Invalid value: \"\(upgrade.clusterVersionRef)\": a version of \"\(version.spec.clusterDefinitionRef)\", not of \"\(cluster.spec.clusterDefinitionRef)\"",
                            fix: "name a ClusterVersion of \(cluster.spec.clusterDefinitionRef)"))
                } else if version.status?.phase == .unavailable {
                    errors.append(
                        FieldError(
                            field: field,
                            message: "Invalid value: \"\(upgrade.clusterVersionRef)\": the ClusterVersion is Unavailable: \(version.status?.message ?? "")",
                            fix: "fix the ClusterVersion or choose another"))
                }
            } else {
                let known = versions.filter { $0.spec.clusterDefinitionRef == cluster.spec.clusterDefinitionRef }.compactMap(\.metadata?.name)
                errors.append(
                    FieldError(
                        field: field, message: "Not found: ClusterVersion \"\(upgrade.clusterVersionRef)\"",
                        fix: "use one of: \(known.isEmpty ? "none installed" : known.joined(separator: ", "))"))
            }
        }
        if ops.spec.type == .start, cluster.metadata?.annotations?[stoppedReplicasAnnotation] == nil,
            cluster.spec.componentSpecs.allSatisfy({ ($0.replicas ?? 1) > 0 })
        {
            errors.append(
                FieldError(
                    field: "spec.type", message: "Invalid value: \"Start\": Cluster \"\(cluster.metadata?.name ?? "")\" is not stopped",
                    fix: "Start only a Cluster that a Stop request stopped"))
        }
        return errors
    }

    /// What the request changes, as it is before the change; cancel restores it.
    public static func lastConfiguration(_ ops: OpsRequest, cluster: Cluster) -> OpsRequestStatus.LastConfiguration {
        var components: [String: OpsRequestStatus.LastComponentConfiguration] = [:]
        for component in cluster.spec.componentSpecs where touches(ops, component: component.name) {
            components[component.name] = OpsRequestStatus.LastComponentConfiguration(
                replicas: component.replicas ?? 1, requests: component.resources?.requests, limits: component.resources?.limits,
                volumeClaimTemplates: component.volumeClaimTemplates?.compactMap { claim in
                    claim.spec.resources?.requests?["storage"].map { .init(name: claim.name, storage: $0) }
                },
                services: component.services,
                primary: ops.spec.type == .switchover ? PrimaryDesignation.recorded(cluster, component: component.name) : nil)
        }
        return OpsRequestStatus.LastConfiguration(
            clusterVersionRef: cluster.spec.clusterVersionRef, components: components.isEmpty ? nil : components)
    }

    /// The components the request acts on: those it names, or all for Stop, Start and Upgrade.
    public static func touches(_ ops: OpsRequest, component: String) -> Bool {
        let named: [String]
        switch ops.spec.type {
        case .horizontalScaling: named = (ops.spec.horizontalScaling ?? []).map(\.componentName)
        case .verticalScaling: named = (ops.spec.verticalScaling ?? []).map(\.componentName)
        case .volumeExpansion: named = (ops.spec.volumeExpansion ?? []).map(\.componentName)
        case .restart: named = (ops.spec.restart ?? []).map(\.componentName)
        case .expose: named = (ops.spec.expose ?? []).map(\.componentName)
        case .switchover: named = (ops.spec.switchover ?? []).map(\.componentName)
        case .stop, .start, .upgrade: return true
        }
        return named.contains(component)
    }

    /// The Cluster as the request wants it. `stamp` marks a restart (an RFC 3339 time).
    public static func applied(_ ops: OpsRequest, to cluster: Cluster, stamp: String) -> Cluster {
        var result = cluster
        var annotations = result.metadata?.annotations ?? [:]
        switch ops.spec.type {
        case .horizontalScaling:
            for scaling in ops.spec.horizontalScaling ?? [] {
                edit(&result, scaling.componentName) { $0.replicas = scaling.replicas }
            }
        case .verticalScaling:
            for scaling in ops.spec.verticalScaling ?? [] {
                edit(&result, scaling.componentName) { $0.resources = mergedResources($0.resources, scaling) }
            }
        case .volumeExpansion:
            for expansion in ops.spec.volumeExpansion ?? [] {
                edit(&result, expansion.componentName) { component in
                    component.volumeClaimTemplates = component.volumeClaimTemplates?.map { claim in
                        guard let wanted = expansion.volumeClaimTemplates.first(where: { $0.name == claim.name }) else { return claim }
                        var claim = claim
                        var resources = claim.spec.resources ?? CoreV1.VolumeResourceRequirements()
                        resources.requests = (resources.requests ?? [:]).merging(["storage": wanted.storage]) { $1 }
                        claim.spec.resources = resources
                        return claim
                    }
                }
            }
        case .restart:
            for restart in ops.spec.restart ?? [] { annotations[ClusterObjectsBuilder.restartAnnotationPrefix + restart.componentName] = stamp }
        case .expose:
            for expose in ops.spec.expose ?? [] {
                edit(&result, expose.componentName) { $0.services = expose.services.isEmpty ? nil : expose.services }
            }
        case .stop:
            if annotations[stoppedReplicasAnnotation] == nil {
                annotations[stoppedReplicasAnnotation] = cluster.spec.componentSpecs
                    .map { "\($0.name)=\($0.replicas ?? 1)" }.joined(separator: ",")
            }
            for index in result.spec.componentSpecs.indices { result.spec.componentSpecs[index].replicas = 0 }
        case .start:
            let stopped = stoppedReplicas(cluster)
            for index in result.spec.componentSpecs.indices {
                let name = result.spec.componentSpecs[index].name
                result.spec.componentSpecs[index].replicas = stopped[name] ?? max(result.spec.componentSpecs[index].replicas ?? 1, 1)
            }
            annotations[stoppedReplicasAnnotation] = nil
        case .upgrade:
            result.spec.clusterVersionRef = ops.spec.upgrade?.clusterVersionRef
        case .switchover:
            // The switch is a designation in the Cluster's status (a compare-and-swap), not an edit of its spec.
            break
        }
        result.metadata?.annotations = annotations.isEmpty ? nil : annotations
        return result
    }

    /// The Cluster with what a cancelled scaling request changed put back.
    public static func restored(_ last: OpsRequestStatus.LastConfiguration, ops: OpsRequest, cluster: Cluster) -> Cluster {
        var result = cluster
        for (name, before) in last.components ?? [:] {
            edit(&result, name) { component in
                switch ops.spec.type {
                case .horizontalScaling: component.replicas = before.replicas
                case .verticalScaling:
                    var resources = component.resources ?? CoreV1.ResourceRequirements()
                    resources.requests = before.requests
                    resources.limits = before.limits
                    component.resources = resources
                default: break
                }
            }
        }
        return result
    }

    static func stoppedReplicas(_ cluster: Cluster) -> [String: Int32] {
        var replicas: [String: Int32] = [:]
        for pair in (cluster.metadata?.annotations?[stoppedReplicasAnnotation] ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let count = Int32(parts[1]) { replicas[String(parts[0])] = count }
        }
        return replicas
    }

    static func mergedResources(
        _ current: CoreV1.ResourceRequirements?, _ scaling: OpsRequestSpec.VerticalScaling
    ) -> CoreV1.ResourceRequirements {
        var resources = current ?? CoreV1.ResourceRequirements()
        if let requests = scaling.requests { resources.requests = (resources.requests ?? [:]).merging(requests) { $1 } }
        if let limits = scaling.limits { resources.limits = (resources.limits ?? [:]).merging(limits) { $1 } }
        return resources
    }

    private static func edit(_ cluster: inout Cluster, _ name: String, _ change: (inout ClusterComponentSpec) -> Void) {
        guard let index = cluster.spec.componentSpecs.firstIndex(where: { $0.name == name }) else { return }
        change(&cluster.spec.componentSpecs[index])
    }
}

// MARK: Completion

extension OpsRequestPlan {
    /// How far a running request is: `done` of `total` pods, and whether everything it asked for has happened.
    struct Progress: Sendable, Hashable {
        var done: Int
        var total: Int
        var complete: Bool
        var message: String
    }

    /// A component the request touches, as the caches show it.
    struct ComponentObservation: Sendable {
        /// Its pods, leaving ones excluded.
        var pods: [CoreV1.Pod] = []
        var statefulSet: AppsV1.StatefulSet?
        /// The storage each claim a VolumeExpansion grows holds now, by claim name (`grownClaims`).
        var claimCapacities: [String: Quantity] = [:]
        /// The address of each load balancer an Expose asks for that has one, by Service name (`loadBalancers`).
        var loadBalancers: [String: String] = [:]
    }

    /// The pods the request brings to their wanted state when done.
    static func target(_ ops: OpsRequest, cluster: Cluster) -> Int {
        if ops.spec.type == .switchover { return 2 * (ops.spec.switchover ?? []).count }
        if ops.spec.type == .stop {
            return cluster.spec.componentSpecs.reduce(0) { $0 + Int($1.replicas ?? 1) }
        }
        return applied(ops, to: cluster, stamp: "").spec.componentSpecs.filter { touches(ops, component: $0.name) }
            .reduce(0) { $0 + Int($1.replicas ?? 1) }
    }

    /// Whether the Cluster controller has seen the Cluster's spec as of `generation`.
    static func reconciled(_ cluster: Cluster, generation: Int64?) -> Bool {
        guard let generation else { return false }
        return (cluster.status?.observedGeneration ?? 0) >= generation
    }

    /// Each type's rule for done: the Cluster reconciled at the request's generation and in the phase the request
    /// leads to, and per component: Stop, no pod left; the others, every wanted pod ready at the workload's update
    /// revision; Restart, the restart stamp rolled out; VolumeExpansion, every claim at least its new size; Expose,
    /// every load balancer with an address.
    static func progress(
        _ ops: OpsRequest, cluster: Cluster, names: ClusterNames, observed: [String: ComponentObservation]
    ) -> Progress {
        let stamp = ops.status?.startTimestamp?.description ?? ""
        var done = 0
        var total = 0
        var complete = reconciled(cluster, generation: ops.status?.clusterGeneration)
        var addresses: [String] = []
        for component in cluster.spec.componentSpecs where touches(ops, component: component.name) {
            let observation = observed[component.name] ?? ComponentObservation()
            let pods = observation.pods
            if ops.spec.type == .stop {
                let before = Int(ops.status?.lastConfiguration?.components?[component.name]?.replicas ?? Int32(pods.count))
                total += before
                done += max(before - pods.count, 0)
                complete = complete && pods.isEmpty
                continue
            }
            let replicas = Int(component.replicas ?? 1)
            total += replicas
            let current = pods.filter { isCurrent($0, statefulSet: observation.statefulSet) }
            done += min(current.count, replicas)
            complete = complete && current.count >= replicas
            if ops.spec.type == .restart {
                complete = complete && restarted(observation.statefulSet, stamp: stamp, replicas: replicas)
            }
            complete =
                complete
                && grownClaims(ops, component: component, names: names).allSatisfy { claim in
                    observation.claimCapacities[claim.name].map { $0 >= claim.storage } == true
                }
            for service in loadBalancers(ops, component: component, names: names) {
                if let address = observation.loadBalancers[service] { addresses.append("\(service): \(address)") } else { complete = false }
            }
        }
        let expected: ClusterPhase = ops.spec.type == .stop ? .stopped : .running
        complete = complete && cluster.status?.phase == expected
        var message = "\(ops.spec.type.rawValue) of Cluster \"\(names.cluster)\" is done"
        if !addresses.isEmpty { message += "; load balancers: \(addresses.joined(separator: ", "))" }
        return Progress(done: complete ? total : min(done, max(total - 1, 0)), total: total, complete: complete, message: message)
    }

    /// Ready, and of the workload's update revision when the pod says which it is.
    private static func isCurrent(_ pod: CoreV1.Pod, statefulSet: AppsV1.StatefulSet?) -> Bool {
        guard ClusterStatusCalculator.isReady(pod) else { return false }
        if let revision = statefulSet?.status?.updateRevision, let podRevision = pod.metadata?.labels?["controller-revision-hash"] {
            return podRevision == revision
        }
        return true
    }

    private static func restarted(_ statefulSet: AppsV1.StatefulSet?, stamp: String, replicas: Int) -> Bool {
        statefulSet?.spec?.template.metadata?.annotations?[ClusterObjectsBuilder.podRestartAnnotation] == stamp
            && statefulSet?.status?.observedGeneration == statefulSet?.metadata?.generation
            && statefulSet?.status?.updatedReplicas == Int32(replicas)
    }

    /// The claims a VolumeExpansion grows in `component`, with the storage each must reach.
    static func grownClaims(
        _ ops: OpsRequest, component: ClusterComponentSpec, names: ClusterNames
    ) -> [(name: String, storage: Quantity)] {
        guard ops.spec.type == .volumeExpansion else { return [] }
        return (ops.spec.volumeExpansion ?? []).filter { $0.componentName == component.name }
            .flatMap(\.volumeClaimTemplates).flatMap { claim in
                (0..<Int(component.replicas ?? 1)).map { ordinal in
                    (names.volumeClaim(claim.name, component: component.name, ordinal: ordinal), claim.storage)
                }
            }
    }

    /// The load balancer Services an Expose waits for in `component`, by name.
    static func loadBalancers(_ ops: OpsRequest, component: ClusterComponentSpec, names: ClusterNames) -> [String] {
        guard ops.spec.type == .expose else { return [] }
        return (component.services ?? []).filter { $0.serviceType == .loadBalancer }.map { names.extraService(component.name, $0.name) }
    }
}
