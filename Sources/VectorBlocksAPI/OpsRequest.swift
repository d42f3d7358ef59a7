import KubeKit

/// A day-2 operation on a Cluster (KubeBlocks' OpsRequest). It only edits the Cluster's spec; the Cluster controller
/// does the work and the OpsRequest reports the progress. Namespaced; `clusterRef` and `type` are fixed once made.
public struct OpsRequest: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "OpsRequest",
        plural: "opsrequests", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: OpsRequestSpec
    public var status: OpsRequestStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: OpsRequestSpec, status: OpsRequestStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(OpsRequestSpec.self),
            "status": .of(OpsRequestStatus.self),
        ], required: ["spec"])
}

public enum OpsType: String, Codable, Sendable, Hashable, CaseIterable {
    case horizontalScaling = "HorizontalScaling"
    case verticalScaling = "VerticalScaling"
    case volumeExpansion = "VolumeExpansion"
    case restart = "Restart"
    case stop = "Stop"
    case start = "Start"
    case expose = "Expose"
    case upgrade = "Upgrade"
    case switchover = "Switchover"

    /// The spec field that carries this type's parameters; nil for Stop and Start, which take none.
    public var parameterField: String? {
        switch self {
        case .horizontalScaling: "horizontalScaling"
        case .verticalScaling: "verticalScaling"
        case .volumeExpansion: "volumeExpansion"
        case .restart: "restart"
        case .expose: "expose"
        case .upgrade: "upgrade"
        case .switchover: "switchover"
        case .stop, .start: nil
        }
    }
}

public struct OpsRequestSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var clusterRef: String
    public var type: OpsType
    /// Set to true to cancel a running VerticalScaling or HorizontalScaling (the only kinds that can be undone
    /// halfway); the Cluster goes back to `status.lastConfiguration`.
    public var cancel: Bool?
    /// How long a succeeded OpsRequest is kept before it is deleted; kept forever when unset.
    public var ttlSecondsAfterSucceed: Int32?
    public var upgrade: Upgrade?
    public var horizontalScaling: [HorizontalScaling]?
    public var verticalScaling: [VerticalScaling]?
    public var volumeExpansion: [VolumeExpansion]?
    public var restart: [ComponentOps]?
    public var expose: [Expose]?
    public var switchover: [Switchover]?

    public init(
        clusterRef: String, type: OpsType, cancel: Bool? = nil, ttlSecondsAfterSucceed: Int32? = nil,
        upgrade: Upgrade? = nil, horizontalScaling: [HorizontalScaling]? = nil, verticalScaling: [VerticalScaling]? = nil,
        volumeExpansion: [VolumeExpansion]? = nil, restart: [ComponentOps]? = nil, expose: [Expose]? = nil,
        switchover: [Switchover]? = nil
    ) {
        self.clusterRef = clusterRef
        self.type = type
        self.cancel = cancel
        self.ttlSecondsAfterSucceed = ttlSecondsAfterSucceed
        self.upgrade = upgrade
        self.horizontalScaling = horizontalScaling
        self.verticalScaling = verticalScaling
        self.volumeExpansion = volumeExpansion
        self.restart = restart
        self.expose = expose
        self.switchover = switchover
    }

    public struct Upgrade: Codable, Sendable, Hashable, SchemaDescribed {
        public var clusterVersionRef: String

        public init(clusterVersionRef: String) {
            self.clusterVersionRef = clusterVersionRef
        }

        public static let schema = Schema.object(
            [
                "clusterVersionRef": .string(pattern: ClusterSpec.referencePattern, maxLength: 63)
            ], required: ["clusterVersionRef"])
    }

    public struct HorizontalScaling: Codable, Sendable, Hashable, SchemaDescribed {
        public var componentName: String
        public var replicas: Int32

        public init(componentName: String, replicas: Int32) {
            self.componentName = componentName
            self.replicas = replicas
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22),
                "replicas": .integer(minimum: 0),
            ], required: ["componentName", "replicas"])
    }

    /// New requests and limits for a component, as KubeBlocks inlines ResourceRequirements.
    public struct VerticalScaling: Codable, Sendable, Hashable, SchemaDescribed {
        public var componentName: String
        public var requests: [String: Quantity]?
        public var limits: [String: Quantity]?

        public init(componentName: String, requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil) {
            self.componentName = componentName
            self.requests = requests
            self.limits = limits
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22),
                "requests": .map(of: .quantity),
                "limits": .map(of: .quantity),
            ], required: ["componentName"])
    }

    public struct VolumeExpansion: Codable, Sendable, Hashable, SchemaDescribed {
        public var componentName: String
        public var volumeClaimTemplates: [VolumeClaim]

        public init(componentName: String, volumeClaimTemplates: [VolumeClaim]) {
            self.componentName = componentName
            self.volumeClaimTemplates = volumeClaimTemplates
        }

        public struct VolumeClaim: Codable, Sendable, Hashable, SchemaDescribed {
            public var name: String
            public var storage: Quantity

            public init(name: String, storage: Quantity) {
                self.name = name
                self.storage = storage
            }

            public static let schema = Schema.object(
                [
                    "name": .dnsLabel(),
                    "storage": .quantity,
                ], required: ["name", "storage"])
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22),
                "volumeClaimTemplates": .array(of: .of(VolumeClaim.self), listMapKeys: ["name"], minItems: 1),
            ], required: ["componentName", "volumeClaimTemplates"])
    }

    public struct ComponentOps: Codable, Sendable, Hashable, SchemaDescribed {
        public var componentName: String

        public init(componentName: String) {
            self.componentName = componentName
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22)
            ], required: ["componentName"])
    }

    /// Services to add to a component: `vpc` (internal NLB) or `internet` (internet-facing NLB) on EKS.
    public struct Expose: Codable, Sendable, Hashable, SchemaDescribed {
        public var componentName: String
        public var services: [ClusterComponentService]

        public init(componentName: String, services: [ClusterComponentService]) {
            self.componentName = componentName
            self.services = services
        }

        public static let schema = Schema.object(
            [
                "componentName": .dnsLabel(maxLength: 22),
                "services": .array(of: .of(ClusterComponentService.self), listMapKeys: ["name"]),
            ], required: ["componentName", "services"])
    }

    public static let schema = Schema.object(
        [
            "clusterRef": Schema.string(pattern: ClusterSpec.referencePattern, maxLength: 63)
                .immutable(message: "forbidden to update spec.clusterRef"),
            "type": Schema.string(oneOf: OpsType.self).immutable(message: "forbidden to update spec.type"),
            "cancel": Schema.boolean.defaulting(to: false),
            "ttlSecondsAfterSucceed": .integer(minimum: 0),
            "upgrade": .of(Upgrade.self),
            "horizontalScaling": .array(of: .of(HorizontalScaling.self), listMapKeys: ["componentName"]),
            "verticalScaling": .array(of: .of(VerticalScaling.self), listMapKeys: ["componentName"]),
            "volumeExpansion": .array(of: .of(VolumeExpansion.self), listMapKeys: ["componentName"]),
            "restart": .array(of: .of(ComponentOps.self), listMapKeys: ["componentName"]),
            "expose": .array(of: .of(Expose.self), listMapKeys: ["componentName"]),
            "switchover": .array(of: .of(Switchover.self), listMapKeys: ["componentName"]),
        ], required: ["clusterRef", "type"])
}

public enum OpsPhase: String, Codable, Sendable, Hashable, CaseIterable {
    case pending = "Pending"
    case creating = "Creating"
    case running = "Running"
    case succeed = "Succeed"
    case failed = "Failed"
    case cancelling = "Cancelling"
    case cancelled = "Cancelled"
}

public struct OpsRequestStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var clusterGeneration: Int64?
    public var phase: OpsPhase?
    /// Done over total units of work, "n/m" (e.g. "1/2" pods restarted).
    public var progress: String?
    /// The Cluster's values before the operation, for cancel and for the record.
    public var lastConfiguration: LastConfiguration?
    public var startTimestamp: MetaV1.Time?
    public var completionTimestamp: MetaV1.Time?
    public var cancelTimestamp: MetaV1.Time?
    public var conditions: [MetaV1.Condition]?

    public init(
        clusterGeneration: Int64? = nil, phase: OpsPhase? = nil, progress: String? = nil,
        lastConfiguration: LastConfiguration? = nil, startTimestamp: MetaV1.Time? = nil,
        completionTimestamp: MetaV1.Time? = nil, cancelTimestamp: MetaV1.Time? = nil, conditions: [MetaV1.Condition]? = nil
    ) {
        self.clusterGeneration = clusterGeneration
        self.phase = phase
        self.progress = progress
        self.lastConfiguration = lastConfiguration
        self.startTimestamp = startTimestamp
        self.completionTimestamp = completionTimestamp
        self.cancelTimestamp = cancelTimestamp
        self.conditions = conditions
    }

    public struct LastConfiguration: Codable, Sendable, Hashable, SchemaDescribed {
        public var clusterVersionRef: String?
        public var components: [String: LastComponentConfiguration]?

        public init(clusterVersionRef: String? = nil, components: [String: LastComponentConfiguration]? = nil) {
            self.clusterVersionRef = clusterVersionRef
            self.components = components
        }

        public static let schema = Schema.object([
            "clusterVersionRef": .string(),
            "components": .map(of: .of(LastComponentConfiguration.self)),
        ])
    }

    public struct LastComponentConfiguration: Codable, Sendable, Hashable, SchemaDescribed {
        public var replicas: Int32?
        public var requests: [String: Quantity]?
        public var limits: [String: Quantity]?
        public var volumeClaimTemplates: [OpsRequestSpec.VolumeExpansion.VolumeClaim]?
        public var services: [ClusterComponentService]?
        /// The pod that was the primary before a Switchover.
        public var primary: String?

        public init(
            replicas: Int32? = nil, requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil,
            volumeClaimTemplates: [OpsRequestSpec.VolumeExpansion.VolumeClaim]? = nil, services: [ClusterComponentService]? = nil,
            primary: String? = nil
        ) {
            self.replicas = replicas
            self.requests = requests
            self.limits = limits
            self.volumeClaimTemplates = volumeClaimTemplates
            self.services = services
            self.primary = primary
        }

        public static let schema = Schema.object([
            "replicas": .integer(minimum: 0),
            "requests": .map(of: .quantity),
            "limits": .map(of: .quantity),
            "volumeClaimTemplates": .array(of: .of(OpsRequestSpec.VolumeExpansion.VolumeClaim.self)),
            "services": .array(of: .of(ClusterComponentService.self)),
            "primary": .string(),
        ])
    }

    public static let schema = Schema.object([
        "clusterGeneration": .integer(format: "int64"),
        "phase": .string(oneOf: OpsPhase.self),
        "progress": .string(pattern: #"^(\d+|-)/(\d+|-)$"#),
        "lastConfiguration": .of(LastConfiguration.self),
        "startTimestamp": .string(format: "date-time"),
        "completionTimestamp": .string(format: "date-time"),
        "cancelTimestamp": .string(format: "date-time"),
        "conditions": .array(of: .kubernetes("io.k8s.apimachinery.pkg.apis.meta.v1.Condition"), listMapKeys: ["type"]),
    ])
}

// MARK: Defaults and validation

extension OpsRequest {
    public func withDefaults() -> OpsRequest {
        var copy = self
        copy.apiVersion = copy.apiVersion ?? Self.descriptor.apiVersion
        copy.kind = copy.kind ?? Self.descriptor.kind
        copy.spec.cancel = copy.spec.cancel ?? false
        copy.spec.expose = copy.spec.expose?.map { expose in
            var expose = expose
            expose.services = expose.services.map { $0.withDefaults() }
            return expose
        }
        return copy
    }

    /// Every problem the schema cannot express: the type's parameters are given and no other type's; with the
    /// Cluster, every component named exists, resources fit, volumes only grow; with the stored request (`old`),
    /// clusterRef and type did not change.
    public func validate(cluster: Cluster? = nil, old: OpsRequest? = nil) -> [FieldError] {
        let spec = FieldPath("spec")
        var errors = Check.required(self.spec.clusterRef, at: spec.child("clusterRef"), fix: "name the Cluster to operate on")
        let given: [(field: String, isSet: Bool)] = [
            ("upgrade", self.spec.upgrade != nil),
            ("horizontalScaling", !(self.spec.horizontalScaling ?? []).isEmpty),
            ("verticalScaling", !(self.spec.verticalScaling ?? []).isEmpty),
            ("volumeExpansion", !(self.spec.volumeExpansion ?? []).isEmpty),
            ("restart", !(self.spec.restart ?? []).isEmpty),
            ("expose", !(self.spec.expose ?? []).isEmpty),
            ("switchover", !(self.spec.switchover ?? []).isEmpty),
        ]
        let wanted = self.spec.type.parameterField
        for (field, isSet) in given {
            if field == wanted, !isSet {
                errors.append(
                    FieldError(
                        field: spec.child(field).description,
                        message: "Required value: a \(self.spec.type.rawValue) request needs spec.\(field)",
                        fix: "list what to change under spec.\(field)"))
            } else if field != wanted, isSet {
                errors.append(
                    FieldError(
                        field: spec.child(field).description,
                        message: "Forbidden: spec.\(field) is not used by a \(self.spec.type.rawValue) request",
                        fix: "remove spec.\(field), or make a separate OpsRequest for it"))
            }
        }
        let componentLists: [(field: String, names: [String])] = [
            ("horizontalScaling", (self.spec.horizontalScaling ?? []).map(\.componentName)),
            ("verticalScaling", (self.spec.verticalScaling ?? []).map(\.componentName)),
            ("volumeExpansion", (self.spec.volumeExpansion ?? []).map(\.componentName)),
            ("restart", (self.spec.restart ?? []).map(\.componentName)),
            ("expose", (self.spec.expose ?? []).map(\.componentName)),
            ("switchover", (self.spec.switchover ?? []).map(\.componentName)),
        ]
        for (field, names) in componentLists {
            errors += Check.uniqueNames(names, at: spec.child(field), field: "componentName")
            if let cluster {
                let known = cluster.spec.componentSpecs.map(\.name)
                for (index, name) in names.enumerated() where !known.contains(name) {
                    errors.append(
                        FieldError(
                            field: spec.child(field).index(index).child("componentName").description,
                            message: "Not found: Cluster \"\(cluster.metadata?.name ?? "")\" has no component \"\(name)\"",
                            fix: "use one of: \(known.joined(separator: ", "))"))
                }
            }
        }
        if self.spec.cancel == true, ![.horizontalScaling, .verticalScaling].contains(self.spec.type) {
            errors.append(
                FieldError(
                    field: spec.child("cancel").description,
                    message: "Forbidden: only a HorizontalScaling or VerticalScaling request can be cancelled",
                    fix: "remove cancel; undo a \(self.spec.type.rawValue) with a new OpsRequest"))
        }
        for (index, scaling) in (self.spec.horizontalScaling ?? []).enumerated() where scaling.replicas < 0 {
            errors.append(
                FieldError(
                    field: spec.child("horizontalScaling").index(index).child("replicas").description,
                    message: "Invalid value: \(scaling.replicas): must be greater than or equal to 0", fix: "ask for 0 or more replicas"))
        }
        for (index, scaling) in (self.spec.verticalScaling ?? []).enumerated() {
            let requirements = CoreV1.ResourceRequirements(limits: scaling.limits, requests: scaling.requests)
            let path = spec.child("verticalScaling").index(index)
            errors += requirements.validate(at: path)
            if (scaling.requests ?? [:]).isEmpty, (scaling.limits ?? [:]).isEmpty {
                errors.append(
                    FieldError(
                        field: path.description, message: "Required value: neither requests nor limits are given",
                        fix: "set requests and/or limits, e.g. requests: {cpu: \"1\", memory: 2Gi}"))
            }
        }
        for (index, expansion) in (self.spec.volumeExpansion ?? []).enumerated() {
            guard let component = cluster?.componentSpec(named: expansion.componentName) else { continue }
            for (position, claim) in expansion.volumeClaimTemplates.enumerated() {
                let path = spec.child("volumeExpansion").index(index).child("volumeClaimTemplates").index(position)
                guard let current = component.storage(of: claim.name) else {
                    errors.append(
                        FieldError(
                            field: path.child("name").description,
                            message: "Not found: component \"\(component.name)\" has no volume claim template \"\(claim.name)\"",
                            fix: "use one of: \((component.volumeClaimTemplates ?? []).map(\.name).joined(separator: ", "))"))
                    continue
                }
                if claim.storage < current {
                    errors.append(
                        FieldError(
                            field: path.child("storage").description,
                            message: "Forbidden: storage may not shrink from \(current) to \(claim.storage)",
                            fix: "ask for \(current) or more; volumes can only grow"))
                }
            }
        }
        errors += validateSwitchover(cluster: cluster)
        if let cluster, let name = cluster.metadata?.name, name != self.spec.clusterRef {
            errors.append(
                FieldError(
                    field: spec.child("clusterRef").description,
                    message: "Invalid value: \"\(self.spec.clusterRef)\": checked against Cluster \"\(name)\"", fix: "set clusterRef to \"\(name)\""))
        }
        if let old {
            if old.spec.clusterRef != self.spec.clusterRef {
                errors.append(
                    FieldError(
                        field: spec.child("clusterRef").description,
                        message: "Invalid value: \"\(self.spec.clusterRef)\": forbidden to update spec.clusterRef",
                        fix: "make a new OpsRequest for Cluster \"\(self.spec.clusterRef)\""))
            }
            if old.spec.type != self.spec.type {
                errors.append(
                    FieldError(
                        field: spec.child("type").description,
                        message: "Invalid value: \"\(self.spec.type.rawValue)\": forbidden to update spec.type",
                        fix: "make a new OpsRequest of type \(self.spec.type.rawValue)"))
            }
        }
        return errors
    }
}
