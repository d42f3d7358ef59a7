import KubeKit
import OperatorKit
import VectorBlocksAPI

/// What the operator saw of one component: its workload's status and its pods.
public struct ComponentObservation: Sendable, Hashable {
    public var name: String
    public var desiredReplicas: Int32
    /// nil until the StatefulSet or Deployment exists.
    public var workload: WorkloadState?
    public var pods: [CoreV1.Pod]

    public init(name: String, desiredReplicas: Int32, workload: WorkloadState?, pods: [CoreV1.Pod]) {
        self.name = name
        self.desiredReplicas = desiredReplicas
        self.workload = workload
        self.pods = pods
    }
}

/// The parts of a StatefulSet's or Deployment's status that say whether a rollout is done.
public struct WorkloadState: Sendable, Hashable {
    public var generation: Int64
    public var observedGeneration: Int64
    public var replicas: Int32
    public var readyReplicas: Int32
    public var updatedReplicas: Int32

    public init(generation: Int64, observedGeneration: Int64, replicas: Int32, readyReplicas: Int32, updatedReplicas: Int32) {
        self.generation = generation
        self.observedGeneration = observedGeneration
        self.replicas = replicas
        self.readyReplicas = readyReplicas
        self.updatedReplicas = updatedReplicas
    }

    public init(_ statefulSet: AppsV1.StatefulSet) {
        self.init(
            generation: statefulSet.metadata?.generation ?? 0,
            observedGeneration: statefulSet.status?.observedGeneration ?? 0,
            replicas: statefulSet.status?.replicas ?? 0, readyReplicas: statefulSet.status?.readyReplicas ?? 0,
            updatedReplicas: statefulSet.status?.updatedReplicas ?? 0)
    }

    public init(_ deployment: AppsV1.Deployment) {
        self.init(
            generation: deployment.metadata?.generation ?? 0,
            observedGeneration: deployment.status?.observedGeneration ?? 0,
            replicas: deployment.status?.replicas ?? 0, readyReplicas: deployment.status?.readyReplicas ?? 0,
            updatedReplicas: deployment.status?.updatedReplicas ?? 0)
    }
}

/// Computes a Cluster's status from what was observed, as a pure function, so every rule is tested without a
/// server: component phases from workloads and pods, the cluster phase from its components, and the conditions
/// ProvisioningStarted, ApplyResources, ReplicasReady and Ready with metav1 semantics.
public enum ClusterStatusCalculator {
    public struct Outcome: Sendable, Hashable {
        /// Why the cluster cannot be provisioned (a missing or Unavailable definition, invalid spec), or nil.
        public var preCheckProblem: String?
        /// Why applying the desired objects failed, or nil when it succeeded.
        public var applyProblem: String?
        /// The engine's verdict on each component whose workload is larger than its spec asks.
        public var scaleIn: [String: ScaleInStep]

        public init(preCheckProblem: String? = nil, applyProblem: String? = nil, scaleIn: [String: ScaleInStep] = [:]) {
            self.preCheckProblem = preCheckProblem
            self.applyProblem = applyProblem
            self.scaleIn = scaleIn
        }
    }

    public static let scaleInRefused = "ScaleInRefused"

    public static func status(
        for cluster: Cluster, components: [ComponentObservation], outcome: Outcome, now: MetaV1.Time
    ) -> ClusterStatus {
        let previous = cluster.status
        var status = ClusterStatus(
            phase: previous?.phase, message: nil, observedGeneration: previous?.observedGeneration,
            clusterDefGeneration: previous?.clusterDefGeneration, components: previous?.components,
            conditions: previous?.conditions ?? [])
        var conditions = status.conditions ?? []
        let generation = cluster.metadata?.generation

        if let problem = outcome.preCheckProblem {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.provisioningStarted.rawValue, status: .false,
                reason: "PreCheckFailed", message: problem, observedGeneration: generation, now: now)
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.ready.rawValue, status: .false,
                reason: "PreCheckFailed", message: problem, observedGeneration: generation, now: now)
            status.phase = cluster.metadata?.deletionTimestamp != nil ? .deleting : .failed
            status.message = problem
            // The verdict is about this generation: a fix of the spec is a new generation to check.
            status.observedGeneration = generation
            status.conditions = conditions
            return status
        }
        Conditions.set(
            &conditions, type: ClusterStatus.ConditionType.provisioningStarted.rawValue, status: .true,
            reason: "PreCheckSucceed", message: "the cluster's definition and version are usable",
            observedGeneration: generation, now: now)
        if let problem = outcome.applyProblem {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.applyResources.rawValue, status: .false,
                reason: "ApplyResourcesFailed", message: problem, observedGeneration: generation, now: now)
        } else {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.applyResources.rawValue, status: .true,
                reason: "ApplyResourcesSucceed", message: "every object of the cluster is applied",
                observedGeneration: generation, now: now)
            status.observedGeneration = generation
        }

        var componentStatuses: [String: ClusterComponentStatus] = [:]
        for component in components {
            let before = previous?.components?[component.name]
            componentStatuses[component.name] = componentStatus(component, previous: before, now: now)
        }
        status.components = componentStatuses

        let notReady = components.filter { componentStatuses[$0.name]?.podsReady != true && $0.desiredReplicas > 0 }
        if notReady.isEmpty {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.replicasReady.rawValue, status: .true,
                reason: "AllReplicasReady", message: "all pods of every component are ready",
                observedGeneration: generation, now: now)
        } else {
            let detail = notReady.map { "\($0.name): \(readyPods($0.pods))/\($0.desiredReplicas) ready" }
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.replicasReady.rawValue, status: .false,
                reason: "ReplicasNotReady", message: detail.joined(separator: ", "),
                observedGeneration: generation, now: now)
        }

        let refusal = scaleInCondition(outcome.scaleIn, conditions: &conditions, generation: generation, now: now)

        let phase =
            cluster.metadata?.deletionTimestamp != nil
            ? .deleting : clusterPhase(componentStatuses.values.compactMap(\.phase))
        status.phase = outcome.applyProblem != nil && phase == .running ? .abnormal : phase
        status.message = outcome.applyProblem ?? refusal
        if status.phase == .running {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.ready.rawValue, status: .true, reason: "ClusterReady",
                message: "the cluster is running", observedGeneration: generation, now: now)
        } else {
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.ready.rawValue, status: .false,
                reason: "ComponentsNotReady",
                message: "the cluster is \(status.phase?.rawValue ?? "not ready")", observedGeneration: generation,
                now: now)
        }
        status.conditions = conditions
        return status
    }

    /// Sets ScaleIn from the engines' verdicts, or turns an earlier False one True once no workload is larger than
    /// asked; returns the refusal to show as the status message.
    static func scaleInCondition(
        _ steps: [String: ScaleInStep], conditions: inout [MetaV1.Condition], generation: Int64?, now: MetaV1.Time
    ) -> String? {
        let type = ClusterStatus.ConditionType.scaleIn.rawValue
        var refused: [String] = []
        var waiting: [String] = []
        for (component, step) in steps.sorted(by: { $0.key < $1.key }) {
            switch step {
            case .ready: continue
            case .waiting(let message): waiting.append("\(component): \(message)")
            case .refused(let reason): refused.append("\(component): \(reason)")
            }
        }
        if !refused.isEmpty {
            let message = "scale-in refused, the replicas stay: " + refused.joined(separator: "; ")
            Conditions.set(&conditions, type: type, status: .false, reason: scaleInRefused, message: message, observedGeneration: generation, now: now)
            return message
        }
        if !waiting.isEmpty {
            Conditions.set(
                &conditions, type: type, status: .false, reason: "ScaleInProgressing",
                message: waiting.joined(separator: "; "), observedGeneration: generation, now: now)
        } else if !steps.isEmpty || Conditions.find(conditions, type: type)?.status == Conditions.Status.false.rawValue {
            Conditions.set(
                &conditions, type: type, status: .true, reason: "ScaleInSucceed",
                message: "the leaving pods hold no data the engine needs", observedGeneration: generation, now: now)
        }
        return nil
    }

    static func componentStatus(
        _ component: ComponentObservation, previous: ClusterComponentStatus?, now: MetaV1.Time
    ) -> ClusterComponentStatus {
        var messages: [String: String] = [:]
        for pod in component.pods {
            guard let name = pod.metadata?.name, let problem = problem(of: pod) else { continue }
            messages["Pod/\(name)"] = problem
        }
        let ready = readyPods(component.pods)
        let podsReady =
            component.desiredReplicas == 0
            ? component.pods.isEmpty : ready >= Int(component.desiredReplicas)
        let failed = component.pods.filter { $0.status?.phase == "Failed" }.count
        let wasRunning = previous?.phase == .running || previous?.phase == .abnormal || previous?.phase == .updating

        let phase: ClusterPhase
        if component.desiredReplicas == 0 {
            phase = component.pods.isEmpty ? .stopped : .stopping
        } else if let workload = component.workload {
            let rollingOut =
                workload.observedGeneration < workload.generation
                || workload.updatedReplicas < component.desiredReplicas || workload.replicas != component.desiredReplicas
            if failed > 0 {
                phase = ready == 0 ? .failed : .abnormal
            } else if rollingOut {
                phase = wasRunning ? .updating : .creating
            } else if podsReady {
                phase = .running
            } else {
                phase = wasRunning ? .abnormal : .creating
            }
        } else {
            phase = .creating
        }
        let readySince = podsReady ? (previous?.podsReady == true ? previous?.podsReadyTime ?? now : now) : nil
        // The designated primary is the failover's to change, under a resourceVersion precondition, never the calculator's.
        return ClusterComponentStatus(
            phase: phase, message: messages.isEmpty ? nil : messages, podsReady: podsReady, podsReadyTime: readySince,
            primary: previous?.primary)
    }

    /// The cluster's phase from its components': the worst one wins, with KubeBlocks' order.
    static func clusterPhase(_ phases: [ClusterPhase]) -> ClusterPhase {
        guard !phases.isEmpty else { return .creating }
        if phases.allSatisfy({ $0 == .running }) { return .running }
        if phases.allSatisfy({ $0 == .stopped }) { return .stopped }
        if phases.contains(.failed) { return phases.allSatisfy({ $0 == .failed }) ? .failed : .abnormal }
        if phases.contains(.abnormal) { return .abnormal }
        if phases.contains(.stopping) { return .stopping }
        if phases.contains(.creating) { return .creating }
        return .updating
    }

    static func readyPods(_ pods: [CoreV1.Pod]) -> Int {
        pods.filter(isReady).count
    }

    /// Ready and not on its way out.
    static func isReady(_ pod: CoreV1.Pod) -> Bool {
        pod.metadata?.deletionTimestamp == nil
            && pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } == true
    }

    /// Why a pod is not serving, in words an operator of the database can act on.
    static func problem(of pod: CoreV1.Pod) -> String? {
        if pod.status?.phase == "Failed" {
            return pod.status?.message ?? pod.status?.reason ?? "the pod failed"
        }
        for container in pod.status?.containerStatuses ?? [] where !container.ready {
            if let waiting = container.state?.waiting, let reason = waiting.reason {
                return "container \(container.name) is waiting: \(reason)\(waiting.message.map { ": \($0)" } ?? "")"
            }
            if let terminated = container.state?.terminated {
                return "container \(container.name) terminated: \(terminated.reason ?? "exit \(terminated.exitCode)")"
            }
            return "container \(container.name) is not ready"
        }
        return nil
    }
}
