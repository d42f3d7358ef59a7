import KubeKit
import VectorBlocksAPI

/// `kbctl cluster create`'s flags, turned into a Cluster of every component the definition has.
public struct ClusterCreation: Sendable {
    public var name: String
    public var namespace: String
    public var definition: String
    public var version: String?
    public var replicas: Int32?
    public var cpu: String?
    public var memory: String?
    public var storage: String?
    public var storageClass: String?
    public var terminationPolicy: String?

    public init(
        name: String, namespace: String, definition: String, version: String? = nil, replicas: Int32? = nil,
        cpu: String? = nil, memory: String? = nil, storage: String? = nil, storageClass: String? = nil,
        terminationPolicy: String? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.definition = definition
        self.version = version
        self.replicas = replicas
        self.cpu = cpu
        self.memory = memory
        self.storage = storage
        self.storageClass = storageClass
        self.terminationPolicy = terminationPolicy
    }

    /// Halt when the flag is absent: unlike kbcli's Delete, deleting a cluster made without a second thought keeps
    /// its data, and the policy is printed so nobody learns it at deletion time.
    public static let defaultTerminationPolicy = TerminationPolicy.halt

    static func policy(_ text: String?) throws -> TerminationPolicy {
        guard let text else { return defaultTerminationPolicy }
        guard let policy = TerminationPolicy(rawValue: text) else {
            throw CLIError("--termination-policy \"\(text)\" is not one of \(TerminationPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }

    /// What `kbctl cluster create` prints: the policy decides what `kbctl cluster delete` will destroy.
    public static func createdMessage(_ cluster: Cluster) -> String {
        let name = cluster.metadata?.name ?? ""
        let policy = cluster.spec.terminationPolicy
        let consequence =
            switch policy {
            case .doNotTerminate: "deleting it is refused until the policy changes"
            case .halt: "deleting it removes its pods and Services and keeps its volumes, Secrets and ConfigMaps"
            case .delete: "deleting it removes everything it owns, volumes included"
            case .wipeOut: "deleting it removes everything it owns, volumes included, and its backups"
            }
        return "Cluster \(name) created with terminationPolicy \(policy.rawValue): \(consequence)\n"
    }

    static let quantityForms = "a number with an optional suffix: 500m or 0.5 (CPU), 512Mi, 4Gi, 1Ti, 10G"

    /// A flag's quantity, or an error that names the flag and shows the accepted forms.
    public static func quantity(_ text: String?, flag: String) throws -> Quantity? {
        guard let text else { return nil }
        do {
            return try Quantity(text)
        } catch {
            throw CLIError("--\(flag) \"\(text)\" is not a quantity: use \(quantityForms)")
        }
    }

    /// The Cluster, with the cpu and memory as both request and limit (a guaranteed pod, as kbcli makes them) and
    /// a `data` volume for components whose definition declares a data volume.
    public func cluster(definition: ClusterDefinition) throws -> Cluster {
        let cpu = try Self.quantity(cpu, flag: "cpu")
        let memory = try Self.quantity(memory, flag: "memory")
        let storage = try Self.quantity(storage ?? "20Gi", flag: "storage") ?? "20Gi"
        if let replicas, replicas < 0 { throw CLIError("--replicas \(replicas) is negative: ask for 0 or more replicas") }
        let policy = try Self.policy(terminationPolicy)
        var resources: CoreV1.ResourceRequirements?
        if cpu != nil || memory != nil {
            var list: [String: Quantity] = [:]
            list["cpu"] = cpu
            list["memory"] = memory
            resources = CoreV1.ResourceRequirements(limits: list, requests: list)
        }
        let components = definition.spec.componentDefs.map { componentDef in
            var volumes: [ClusterComponentVolumeClaimTemplate]?
            if componentDef.workloadType != .stateless {
                let names = (componentDef.volumeTypes ?? []).filter { $0.type == .data }.map(\.name)
                volumes = (names.isEmpty ? ["data"] : names).map { volume in
                    ClusterComponentVolumeClaimTemplate(
                        name: volume,
                        spec: CoreV1.PersistentVolumeClaimSpec(
                            accessModes: ["ReadWriteOnce"],
                            resources: CoreV1.VolumeResourceRequirements(requests: ["storage": storage]),
                            storageClassName: storageClass))
                }
            }
            return ClusterComponentSpec(
                name: componentDef.name, componentDefRef: componentDef.name, replicas: replicas, resources: resources,
                volumeClaimTemplates: volumes)
        }
        return Cluster(
            metadata: MetaV1.ObjectMeta(name: name, namespace: namespace),
            spec: ClusterSpec(
                clusterDefinitionRef: self.definition, clusterVersionRef: version, terminationPolicy: policy,
                componentSpecs: components))
    }
}
