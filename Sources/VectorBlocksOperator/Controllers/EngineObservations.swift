import KubeKit
import Metrics

/// What a component's pods looked like, in every respect an engine's answer depends on, when its engine last
/// answered: the pods' names and uids, readiness, addresses and role labels, and the primary the Cluster designated.
/// An unchanged component needs no new question, so an idle cluster, or a reconcile woken by an unrelated event, opens
/// no connection to its engine. The designation is part of it: a switchover changes no pod, and a reconcile still
/// working from the Cluster before the switchover, recording what it saw, once left the new primary never promoted.
actor EngineObservations {
    struct Key: Hashable {
        var namespace: String
        var cluster: String
        var component: String

        init(names: ClusterNames, component: String) {
            namespace = names.namespace
            cluster = names.cluster
            self.component = component
        }
    }

    struct PodState: Hashable {
        var name: String
        var uid: String
        var ready: Bool
        var ip: String
        var role: String
    }

    private struct Observation: Equatable {
        var pods: Set<PodState>
        var designatedPrimary: String?
    }

    private var answered: [Key: Observation] = [:]

    func hasChanged(_ key: Key, pods: [CoreV1.Pod], designatedPrimary: String?) -> Bool {
        answered[key] != Observation(pods: Self.states(pods), designatedPrimary: designatedPrimary)
    }

    /// The pods as the engine was asked about them. Role labels the answer changes make a difference, so the engine
    /// hooks run once more on the labelled pods (the pgvector extension is made on the pod labelled primary).
    func record(_ key: Key, pods: [CoreV1.Pod], designatedPrimary: String?) {
        answered[key] = Observation(pods: Self.states(pods), designatedPrimary: designatedPrimary)
    }

    /// The component's pods are to be asked about again, whatever they look like.
    func forget(_ key: Key) {
        answered[key] = nil
    }

    func forget(_ names: ClusterNames) {
        answered = answered.filter { $0.key.namespace != names.namespace || $0.key.cluster != names.cluster }
    }

    private static func states(_ pods: [CoreV1.Pod]) -> Set<PodState> {
        Set(
            pods.map { pod in
                let name = pod.metadata?.name ?? ""
                return PodState(
                    name: name, uid: pod.metadata?.uid ?? "", ready: ClusterStatusCalculator.isReady(pod),
                    ip: pod.status?.podIP ?? "", role: pod.metadata?.labels?[ClusterNames.roleLabel] ?? "")
            })
    }
}

/// `vectorblocks_engine_calls_total{hook}`: each time the operator asks an engine something, so a benchmark can say
/// how many engine calls a reconcile causes.
struct EngineCallMetrics: Sendable {
    enum Hook: String {
        case roles
        case componentReady = "component_ready"
        case prepareScaleIn = "prepare_scale_in"
    }

    let factory: (any MetricsFactory)?

    func record(_ hook: Hook) {
        let dimensions = [("hook", hook.rawValue)]
        let counter =
            factory.map { Counter(label: "vectorblocks_engine_calls_total", dimensions: dimensions, factory: $0) }
            ?? Counter(label: "vectorblocks_engine_calls_total", dimensions: dimensions)
        counter.increment()
    }
}
