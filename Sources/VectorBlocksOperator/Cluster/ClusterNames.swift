import KubeKit
import VectorBlocksAPI

/// The names and labels of what the operator makes for a Cluster, exactly as KubeBlocks names them (DESIGN §2), so
/// its users find their way.
public struct ClusterNames: Sendable, Hashable {
    public let cluster: String
    public let namespace: String

    public init(cluster: String, namespace: String) {
        self.cluster = cluster
        self.namespace = namespace
    }

    public static let managedBy = "vectorblocks"
    public static let fieldManager = "vectorblocks-operator"
    public static let finalizer = "\(VectorBlocksAPI.group)/finalizer"
    public static let componentNameLabel = "\(VectorBlocksAPI.group)/component-name"
    public static let roleLabel = "\(VectorBlocksAPI.group)/role"
    /// Which pods a component's objects select: those of one cluster's one component.
    public static let instanceLabel = "app.kubernetes.io/instance"
    public static let managedByLabel = "app.kubernetes.io/managed-by"

    public var credentialSecret: String { "\(cluster)-conn-credential" }
    public func workload(_ component: String) -> String { "\(cluster)-\(component)" }
    public func environmentConfigMap(_ component: String) -> String { "\(cluster)-\(component)-env" }
    public func templateConfigMap(_ component: String, spec: String) -> String { "\(cluster)-\(component)-\(spec)" }
    public func headlessService(_ component: String) -> String { "\(cluster)-\(component)-headless" }
    public func service(_ component: String) -> String { "\(cluster)-\(component)" }
    public func readOnlyService(_ component: String) -> String { "\(cluster)-\(component)-ro" }
    public func extraService(_ component: String, _ service: String) -> String { "\(cluster)-\(component)-\(service)" }
    public func podDisruptionBudget(_ component: String) -> String { "\(cluster)-\(component)" }
    public func pod(_ component: String, ordinal: Int) -> String { "\(cluster)-\(component)-\(ordinal)" }
    public func volumeClaim(_ template: String, component: String, ordinal: Int) -> String {
        "\(template)-\(cluster)-\(component)-\(ordinal)"
    }

    /// The in-cluster DNS name of a Service of this cluster.
    public func fqdn(service: String) -> String { "\(service).\(namespace).svc" }

    /// Every object of the cluster: what prunes, termination and `kbctl` select by.
    public var clusterSelector: [String: String] {
        [Self.instanceLabel: cluster, Self.managedByLabel: Self.managedBy]
    }

    /// The pods of one component (what its Services, PDB and workload select).
    public func componentSelector(_ component: String) -> [String: String] {
        [Self.instanceLabel: cluster, Self.managedByLabel: Self.managedBy, Self.componentNameLabel: component]
    }

    /// The labels every object of a component carries.
    public func labels(component: String, componentDef: String, definitionType: String) -> [String: String] {
        [
            "app.kubernetes.io/name": definitionType,
            Self.instanceLabel: cluster,
            "app.kubernetes.io/component": componentDef,
            Self.managedByLabel: Self.managedBy,
            Self.componentNameLabel: component,
        ]
    }

    /// Labels of objects that belong to the whole cluster rather than one component (the credential Secret).
    public func clusterLabels(definitionType: String) -> [String: String] {
        ["app.kubernetes.io/name": definitionType, Self.instanceLabel: cluster, Self.managedByLabel: Self.managedBy]
    }

    /// `VB_<COMP>_...`, `KB_<COMPDEF>_...`: a portable environment variable name holds only letters, digits and
    /// underscores.
    public static func environmentName(_ component: String) -> String {
        String(component.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}
