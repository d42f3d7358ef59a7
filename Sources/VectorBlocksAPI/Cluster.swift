import KubeKit

/// A database cluster (KubeBlocks' Cluster): an engine's definition and version, and per component the replicas,
/// resources, volumes and extra Services. Namespaced.
public struct Cluster: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "Cluster",
        plural: "clusters", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: ClusterSpec
    public var status: ClusterStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: ClusterSpec, status: ClusterStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(ClusterSpec.self),
            "status": .of(ClusterStatus.self),
        ], required: ["spec"])

    public func componentSpec(named name: String) -> ClusterComponentSpec? {
        spec.componentSpecs.first { $0.name == name }
    }
}

/// What happens to a Cluster's resources when it is deleted. Required, as in KubeBlocks: a default would decide for
/// the user whether deleting a Cluster deletes its data.
public enum TerminationPolicy: String, Codable, Sendable, Hashable, CaseIterable {
    /// Deletion is refused.
    case doNotTerminate = "DoNotTerminate"
    /// Workloads and Services go; PVCs, Secrets and ConfigMaps stay, so the cluster can be made again.
    case halt = "Halt"
    /// Everything the Cluster owns goes.
    case delete = "Delete"
    /// What Delete removes, and the Cluster's Backups and their data in the repository too.
    case wipeOut = "WipeOut"
}

public struct ClusterSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var clusterDefinitionRef: String
    public var clusterVersionRef: String?
    public var terminationPolicy: TerminationPolicy
    public var affinity: Affinity?
    public var tolerations: [CoreV1.Toleration]?
    public var componentSpecs: [ClusterComponentSpec]
    /// Scheduled backups (ClusterBackup.swift).
    public var backup: ClusterBackup?
    /// Made from this Backup's data.
    public var restoreFrom: ClusterRestore?

    public init(
        clusterDefinitionRef: String, clusterVersionRef: String? = nil, terminationPolicy: TerminationPolicy,
        affinity: Affinity? = nil, tolerations: [CoreV1.Toleration]? = nil, componentSpecs: [ClusterComponentSpec],
        backup: ClusterBackup? = nil, restoreFrom: ClusterRestore? = nil
    ) {
        self.backup = backup
        self.restoreFrom = restoreFrom
        self.clusterDefinitionRef = clusterDefinitionRef
        self.clusterVersionRef = clusterVersionRef
        self.terminationPolicy = terminationPolicy
        self.affinity = affinity
        self.tolerations = tolerations
        self.componentSpecs = componentSpecs
    }

    static let referencePattern = #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#

    public static let schema = Schema.object(
        [
            "clusterDefinitionRef": Schema.string(pattern: referencePattern, maxLength: 63)
                .immutable(message: "clusterDefinitionRef is immutable"),
            "clusterVersionRef": .string(pattern: referencePattern, maxLength: 63),
            "terminationPolicy": .string(oneOf: TerminationPolicy.self),
            "affinity": .of(Affinity.self),
            "tolerations": .array(of: .kubernetes("io.k8s.api.core.v1.Toleration")),
            "componentSpecs": .array(of: .of(ClusterComponentSpec.self), listMapKeys: ["name"], minItems: 1),
            "backup": .of(ClusterBackup.self),
            "restoreFrom": .of(ClusterRestore.self),
        ], required: ["clusterDefinitionRef", "terminationPolicy", "componentSpecs"])
}

/// KubeBlocks' scheduling shorthand: spread replicas over topology keys, pin to node labels, share or own nodes.
public struct Affinity: Codable, Sendable, Hashable, SchemaDescribed {
    public var podAntiAffinity: PodAntiAffinity?
    public var topologyKeys: [String]?
    public var nodeLabels: [String: String]?
    public var tenancy: Tenancy?

    public init(
        podAntiAffinity: PodAntiAffinity? = nil, topologyKeys: [String]? = nil,
        nodeLabels: [String: String]? = nil, tenancy: Tenancy? = nil
    ) {
        self.podAntiAffinity = podAntiAffinity
        self.topologyKeys = topologyKeys
        self.nodeLabels = nodeLabels
        self.tenancy = tenancy
    }

    public enum PodAntiAffinity: String, Codable, Sendable, Hashable, CaseIterable {
        case preferred = "Preferred"
        case required = "Required"
    }

    public enum Tenancy: String, Codable, Sendable, Hashable, CaseIterable {
        case sharedNode = "SharedNode"
        case dedicatedNode = "DedicatedNode"
    }

    public static let schema = Schema.object([
        "podAntiAffinity": Schema.string(oneOf: PodAntiAffinity.self).defaulting(to: "Preferred"),
        "topologyKeys": .array(of: .string(minLength: 1)),
        "nodeLabels": .stringMap,
        "tenancy": Schema.string(oneOf: Tenancy.self).defaulting(to: "SharedNode"),
    ])
}

public struct ClusterComponentSpec: Codable, Sendable, Hashable, SchemaDescribed {
    /// The component's name in this Cluster; part of its Pods', Services' and PVCs' names, hence at most 22.
    public var name: String
    public var componentDefRef: String
    public var monitor: Bool?
    public var replicas: Int32?
    public var affinity: Affinity?
    public var tolerations: [CoreV1.Toleration]?
    public var resources: CoreV1.ResourceRequirements?
    public var volumeClaimTemplates: [ClusterComponentVolumeClaimTemplate]?
    public var services: [ClusterComponentService]?
    public var serviceAccountName: String?
    /// Failover settings of a Replication component (pgvector); refused on other workload types.
    public var replication: ComponentReplication?

    public init(
        name: String, componentDefRef: String, monitor: Bool? = nil, replicas: Int32? = nil, affinity: Affinity? = nil,
        tolerations: [CoreV1.Toleration]? = nil, resources: CoreV1.ResourceRequirements? = nil,
        volumeClaimTemplates: [ClusterComponentVolumeClaimTemplate]? = nil, services: [ClusterComponentService]? = nil,
        serviceAccountName: String? = nil, replication: ComponentReplication? = nil
    ) {
        self.name = name
        self.componentDefRef = componentDefRef
        self.monitor = monitor
        self.replicas = replicas
        self.affinity = affinity
        self.tolerations = tolerations
        self.resources = resources
        self.volumeClaimTemplates = volumeClaimTemplates
        self.services = services
        self.serviceAccountName = serviceAccountName
        self.replication = replication
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(maxLength: 22),
            "componentDefRef": .dnsLabel(maxLength: 22),
            "monitor": Schema.boolean.defaulting(to: false),
            "replicas": Schema.integer(minimum: 0).defaulting(to: 1),
            "affinity": .of(Affinity.self),
            "tolerations": .array(of: .kubernetes("io.k8s.api.core.v1.Toleration")),
            "resources": .kubernetes("io.k8s.api.core.v1.ResourceRequirements"),
            "volumeClaimTemplates": .array(of: .of(ClusterComponentVolumeClaimTemplate.self), listMapKeys: ["name"]),
            "services": .array(of: .of(ClusterComponentService.self), listMapKeys: ["name"]),
            "serviceAccountName": .string(),
            "replication": .of(ComponentReplication.self),
        ], required: ["name", "componentDefRef"])

    /// The storage a volume claim template asks for.
    public func storage(of volume: String) -> Quantity? {
        volumeClaimTemplates?.first { $0.name == volume }?.spec.resources?.requests?["storage"]
    }
}

/// A PVC template of a component; `name` matches a volume the definition's podSpec mounts (usually `data`).
public struct ClusterComponentVolumeClaimTemplate: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var spec: CoreV1.PersistentVolumeClaimSpec

    public init(name: String, spec: CoreV1.PersistentVolumeClaimSpec) {
        self.name = name
        self.spec = spec
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(),
            "spec": .kubernetes("io.k8s.api.core.v1.PersistentVolumeClaimSpec"),
        ], required: ["name", "spec"])
}

public enum ClusterPhase: String, Codable, Sendable, Hashable, CaseIterable {
    case creating = "Creating"
    case running = "Running"
    case updating = "Updating"
    case stopping = "Stopping"
    case stopped = "Stopped"
    case deleting = "Deleting"
    case failed = "Failed"
    case abnormal = "Abnormal"
}

public struct ClusterStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var phase: ClusterPhase?
    public var message: String?
    public var observedGeneration: Int64?
    public var clusterDefGeneration: Int64?
    public var components: [String: ClusterComponentStatus]?
    public var conditions: [MetaV1.Condition]?

    public init(
        phase: ClusterPhase? = nil, message: String? = nil, observedGeneration: Int64? = nil,
        clusterDefGeneration: Int64? = nil, components: [String: ClusterComponentStatus]? = nil,
        conditions: [MetaV1.Condition]? = nil
    ) {
        self.phase = phase
        self.message = message
        self.observedGeneration = observedGeneration
        self.clusterDefGeneration = clusterDefGeneration
        self.components = components
        self.conditions = conditions
    }

    /// The condition types the Cluster controller reports, in the order they become true.
    public enum ConditionType: String, Sendable, CaseIterable {
        case provisioningStarted = "ProvisioningStarted"
        case applyResources = "ApplyResources"
        case replicasReady = "ReplicasReady"
        case ready = "Ready"
        /// Present once a component has shrunk: False while its engine readies the leaving pods or refuses to.
        case scaleIn = "ScaleIn"
    }

    public static let schema = Schema.object([
        "phase": .string(oneOf: ClusterPhase.self),
        "message": .string(),
        "observedGeneration": .integer(format: "int64"),
        "clusterDefGeneration": .integer(format: "int64"),
        "components": .map(of: .of(ClusterComponentStatus.self)),
        "conditions": .array(of: .kubernetes("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), listMapKeys: ["type"]),
    ])
}

public struct ClusterComponentStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var phase: ClusterPhase?
    /// Per-object messages, keyed `<Kind>/<name>` as KubeBlocks does.
    public var message: [String: String]?
    public var podsReady: Bool?
    public var podsReadyTime: MetaV1.Time?
    /// The pod the operator designated as the primary of a Replication component: it alone starts read-write, the
    /// others stream from it. Written only with the Cluster's resourceVersion as a precondition, before a promotion.
    public var primary: String?

    public init(
        phase: ClusterPhase? = nil, message: [String: String]? = nil, podsReady: Bool? = nil, podsReadyTime: MetaV1.Time? = nil,
        primary: String? = nil
    ) {
        self.phase = phase
        self.message = message
        self.podsReady = podsReady
        self.podsReadyTime = podsReadyTime
        self.primary = primary
    }

    public static let schema = Schema.object([
        "phase": .string(oneOf: ClusterPhase.self),
        "message": .stringMap,
        "podsReady": .boolean,
        "podsReadyTime": .string(format: "date-time"),
        "primary": .string(),
    ])
}

// MARK: Defaults and validation

extension Cluster {
    /// The Cluster as the API server stores it: the schema's defaults filled in (replicas 1, monitor false,
    /// ClusterIP services, Preferred anti-affinity on SharedNode tenancy).
    public func withDefaults() -> Cluster {
        var copy = self
        copy.apiVersion = copy.apiVersion ?? Self.descriptor.apiVersion
        copy.kind = copy.kind ?? Self.descriptor.kind
        copy.spec.affinity = copy.spec.affinity?.withDefaults()
        copy.spec.backup = copy.spec.backup?.withDefaults()
        for index in copy.spec.componentSpecs.indices {
            var component = copy.spec.componentSpecs[index]
            component.replicas = component.replicas ?? 1
            component.monitor = component.monitor ?? false
            component.affinity = component.affinity?.withDefaults()
            component.services = component.services?.map { $0.withDefaults() }
            copy.spec.componentSpecs[index] = component
        }
        return copy
    }

    /// Every problem the schema cannot express. With the definition: each componentDefRef names one of its
    /// components; with the version: it belongs to the same definition; with the stored Cluster (`old`) on update:
    /// the definition stays and no volume's storage shrinks.
    public func validate(definition: ClusterDefinition? = nil, version: ClusterVersion? = nil, old: Cluster? = nil) -> [FieldError] {
        let components = FieldPath("spec.componentSpecs")
        var errors = Check.required(
            spec.clusterDefinitionRef, at: FieldPath("spec.clusterDefinitionRef"),
            fix: "name the ClusterDefinition of the engine, e.g. \"qdrant\" or \"pgvector\"")
        if spec.componentSpecs.isEmpty {
            errors.append(
                FieldError(
                    field: components.description, message: "Required value: at least one component",
                    fix: "add a componentSpecs entry for each component of the definition you want to run"))
        }
        errors += Check.uniqueNames(spec.componentSpecs.map(\.name), at: components)
        for (index, component) in spec.componentSpecs.enumerated() {
            let path = components.index(index)
            errors += Check.dnsLabel(component.name, at: path.child("name"), maxLength: 22, what: "component")
            if let replicas = component.replicas, replicas < 0 {
                errors.append(
                    FieldError(
                        field: path.child("replicas").description,
                        message: "Invalid value: \(replicas): must be greater than or equal to 0", fix: "set replicas to 0 or more"))
            }
            if let resources = component.resources {
                errors += resources.validate(at: path.child("resources"))
            }
            errors += Check.uniqueNames((component.volumeClaimTemplates ?? []).map(\.name), at: path.child("volumeClaimTemplates"))
            errors += Check.uniqueNames((component.services ?? []).map(\.name), at: path.child("services"))
            if let definition, definition.componentDef(named: component.componentDefRef) == nil {
                errors.append(
                    FieldError(
                        field: path.child("componentDefRef").description,
                        message: "Not found: \"\(component.componentDefRef)\" is not a component of ClusterDefinition \"\(definition.metadata?.name ?? "")\"",
                        fix: "use one of: \(definition.spec.componentDefs.map(\.name).joined(separator: ", "))"))
            }
            if component.monitor == true, let definition, let componentDef = definition.componentDef(named: component.componentDefRef),
                componentDef.scrapePort == nil
            {
                errors.append(
                    FieldError(
                        field: path.child("monitor").description,
                        message:
                            "Invalid value: true: component \"\(componentDef.name)\" of ClusterDefinition \"\(definition.metadata?.name ?? "")\" serves no metrics endpoint",
                        fix: "set monitor: false, or name the engine's metrics port in the definition's monitor.exporterConfig"))
            }
        }
        if let definition {
            errors += validateBackup(engine: definition.spec.type ?? definition.metadata?.name ?? "")
        }
        errors += validateReplication(definition: definition)
        if let version, version.spec.clusterDefinitionRef != spec.clusterDefinitionRef {
            errors.append(
                FieldError(
                    field: "spec.clusterVersionRef",
                    message:
                        "Invalid value: \"\(version.metadata?.name ?? "")\": it is a version of ClusterDefinition \"\(version.spec.clusterDefinitionRef)\", not \"\(spec.clusterDefinitionRef)\"",
                    fix:
                        "name a ClusterVersion whose clusterDefinitionRef is \"\(spec.clusterDefinitionRef)\", or leave clusterVersionRef empty for the default one"
                ))
        }
        if let old {
            errors += validateUpdate(from: old)
        }
        return errors
    }

    private func validateUpdate(from old: Cluster) -> [FieldError] {
        var errors: [FieldError] = []
        if old.spec.clusterDefinitionRef != spec.clusterDefinitionRef {
            errors.append(
                FieldError(
                    field: "spec.clusterDefinitionRef",
                    message: "Invalid value: \"\(spec.clusterDefinitionRef)\": clusterDefinitionRef is immutable",
                    fix: "keep \"\(old.spec.clusterDefinitionRef)\"; to change engine, make a new Cluster"))
        }
        for (index, component) in spec.componentSpecs.enumerated() {
            guard let before = old.componentSpec(named: component.name) else { continue }
            for (position, template) in (component.volumeClaimTemplates ?? []).enumerated() {
                guard let previous = before.storage(of: template.name), let requested = template.spec.resources?.requests?["storage"],
                    requested < previous
                else { continue }
                errors.append(
                    FieldError(
                        field: "spec.componentSpecs[\(index)].volumeClaimTemplates[\(position)].spec.resources.requests[storage]",
                        message: "Forbidden: storage may not shrink from \(previous) to \(requested)",
                        fix: "keep at least \(previous); a volume can only grow (VolumeExpansion)"))
            }
        }
        return errors
    }
}

extension Affinity {
    func withDefaults() -> Affinity {
        var copy = self
        copy.podAntiAffinity = copy.podAntiAffinity ?? .preferred
        copy.tenancy = copy.tenancy ?? .sharedNode
        return copy
    }
}

extension ClusterComponentService {
    func withDefaults() -> ClusterComponentService {
        var copy = self
        copy.serviceType = copy.serviceType ?? .clusterIP
        return copy
    }
}
