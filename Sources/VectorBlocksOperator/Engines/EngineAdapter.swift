import KubeKit
import VectorBlocksAPI

/// How the operator works with one engine's processes, beyond what Kubernetes objects say. Adapters are keyed by
/// the component definition's `characterType` (`EngineAdapters`); every hook has a default that does nothing, so an
/// engine implements only what it needs.
public protocol EngineAdapter: Sendable {
    /// Readies the pods at ordinals `replicas...` to go. The workload shrinks only once this answers `.ready`, and
    /// each call carries on from what the engine reports, so an operator that restarts mid-way finishes the job.
    func prepareScaleIn(_ component: EngineComponent, to replicas: Int32) async -> ScaleInStep
    /// Why the engine cannot shrink to `replicas` at all, judged without changing anything, or nil when it can (or
    /// cannot tell now: `prepareScaleIn` checks again before any step).
    func scaleInRefusal(_ component: EngineComponent, to replicas: Int32) async -> String?
    /// Whether the component's PersistentVolumeClaims of ordinals `replicas...` are to be deleted once their pods are
    /// gone: the data on them is stale after a scale-in the engine was told of.
    var deletesVolumesAfterScaleIn: Bool { get }
    /// Runs on each reconcile where every pod of the component is ready; must be idempotent.
    func componentReady(_ component: EngineComponent) async throws
    /// The role of each pod the engine reports, by pod name, for the `apps.vectorblocks.io/role` label; pods the
    /// engine did not answer for are left out.
    func roles(_ component: EngineComponent) async -> [String: String]
    /// Whether `roles` answers for every pod it can reach; when it does, a ready pod left out is asked about again.
    var reportsRoles: Bool { get }
}

extension EngineAdapter {
    public func prepareScaleIn(_ component: EngineComponent, to replicas: Int32) async -> ScaleInStep { .ready }
    public func scaleInRefusal(_ component: EngineComponent, to replicas: Int32) async -> String? { nil }
    public var deletesVolumesAfterScaleIn: Bool { false }
    public func componentReady(_ component: EngineComponent) async throws {}
    public func roles(_ component: EngineComponent) async -> [String: String] { [:] }
    public var reportsRoles: Bool { false }
}

/// Where a scale-in stands.
public enum ScaleInStep: Sendable, Hashable {
    /// The leaving pods hold nothing the engine needs: shrink.
    case ready
    /// Work is under way (or the engine did not answer); look again shortly.
    case waiting(String)
    /// The engine cannot lose those pods without losing data; the replicas stay until the request changes.
    case refused(String)
}

/// One component as an engine adapter sees it: its pods, how to reach them, and the credential to use.
public struct EngineComponent: Sendable {
    public var names: ClusterNames
    public var component: String
    /// The component's pods, by ordinal.
    public var pods: [CoreV1.Pod]
    /// The conn-credential Secret's values (username, password, and for Qdrant apiKey).
    public var credential: [String: String]
    public var addressing: PodAddressing
    /// The pod the operator designated as primary, for engines with one (`ReplicationEngine`).
    public var designatedPrimary: String?

    public init(
        names: ClusterNames, component: String, pods: [CoreV1.Pod], credential: [String: String], addressing: PodAddressing,
        designatedPrimary: String? = nil
    ) {
        self.names = names
        self.component = component
        self.pods = pods.sorted { (Self.ordinal(of: $0) ?? .max) < (Self.ordinal(of: $1) ?? .max) }
        self.credential = credential
        self.addressing = addressing
        self.designatedPrimary = designatedPrimary
    }

    /// The StatefulSet ordinal in a pod's name (`<cluster>-<component>-<ordinal>`).
    public static func ordinal(of pod: CoreV1.Pod) -> Int? {
        pod.metadata?.name.flatMap(ordinal(inPodName:))
    }

    public static func ordinal(inPodName name: String) -> Int? {
        name.split(separator: "-").last.flatMap { Int($0) }
    }

    /// The pods that stay after a scale-in to `replicas`, ready ones only: the ones to talk to.
    public func readyPods(below replicas: Int32) -> [CoreV1.Pod] {
        pods.filter { (Self.ordinal(of: $0) ?? .max) < Int(replicas) && ClusterStatusCalculator.isReady($0) }
    }
}
