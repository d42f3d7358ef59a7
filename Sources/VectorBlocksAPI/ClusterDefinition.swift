import KubeKit

/// An engine (KubeBlocks' ClusterDefinition): its components, how their Pods look, which ports they serve, which
/// config and script templates they mount, and the connection credential template. Cluster-scoped.
public struct ClusterDefinition: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "ClusterDefinition",
        plural: "clusterdefinitions", namespaced: false)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: ClusterDefinitionSpec
    public var status: AvailabilityStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: ClusterDefinitionSpec, status: AvailabilityStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(ClusterDefinitionSpec.self),
            "status": .of(AvailabilityStatus.self),
        ], required: ["spec"])

    /// The component definition called `name`.
    public func componentDef(named name: String) -> ClusterComponentDefinition? {
        spec.componentDefs.first { $0.name == name }
    }
}

public struct ClusterDefinitionSpec: Codable, Sendable, Hashable, SchemaDescribed {
    /// The engine (`qdrant`, `postgresql`); it becomes the `app.kubernetes.io/name` label.
    public var type: String?
    public var componentDefs: [ClusterComponentDefinition]
    /// The keys of the `<cluster>-conn-credential` Secret, with `$(RANDOM_PASSWD)`, `$(UUID)`, `$(SVC_FQDN)`,
    /// `$(HEADLESS_SVC_FQDN)` and `$(SVC_PORT_<port name>)` replaced when the Secret is made.
    public var connectionCredential: [String: String]?

    public init(type: String? = nil, componentDefs: [ClusterComponentDefinition], connectionCredential: [String: String]? = nil) {
        self.type = type
        self.componentDefs = componentDefs
        self.connectionCredential = connectionCredential
    }

    public static let schema = Schema.object(
        [
            "type": .string(maxLength: 24),
            "componentDefs": .array(of: .of(ClusterComponentDefinition.self), listMapKeys: ["name"], minItems: 1),
            "connectionCredential": .stringMap,
        ], required: ["componentDefs"])
}

/// How a component's replicas relate (KubeBlocks' WorkloadType).
public enum WorkloadType: String, Codable, Sendable, Hashable, CaseIterable {
    /// A Deployment: replicas hold no data.
    case stateless = "Stateless"
    /// A StatefulSet of equal peers.
    case stateful = "Stateful"
    /// A StatefulSet whose peers elect a leader (51% must stay available).
    case consensus = "Consensus"
    /// A StatefulSet with one primary and secondaries that follow it.
    case replication = "Replication"
}

public struct ClusterComponentDefinition: Codable, Sendable, Hashable, SchemaDescribed {
    /// The component's name; Clusters refer to it as `componentDefRef`.
    public var name: String
    public var description: String?
    public var workloadType: WorkloadType
    /// The engine adapter that manages the component (`qdrant`, `postgresql`).
    public var characterType: String?
    public var configSpecs: [ComponentTemplateSpec]?
    public var scriptSpecs: [ComponentTemplateSpec]?
    public var monitor: MonitorConfig?
    public var podSpec: CoreV1.PodSpec?
    public var service: ServiceSpec?
    public var volumeTypes: [VolumeTypeSpec]?

    public init(
        name: String, description: String? = nil, workloadType: WorkloadType, characterType: String? = nil,
        configSpecs: [ComponentTemplateSpec]? = nil, scriptSpecs: [ComponentTemplateSpec]? = nil,
        monitor: MonitorConfig? = nil, podSpec: CoreV1.PodSpec? = nil, service: ServiceSpec? = nil,
        volumeTypes: [VolumeTypeSpec]? = nil
    ) {
        self.name = name
        self.description = description
        self.workloadType = workloadType
        self.characterType = characterType
        self.configSpecs = configSpecs
        self.scriptSpecs = scriptSpecs
        self.monitor = monitor
        self.podSpec = podSpec
        self.service = service
        self.volumeTypes = volumeTypes
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(maxLength: 22),
            "description": .string(),
            "workloadType": .string(oneOf: WorkloadType.self),
            "characterType": .string(),
            "configSpecs": .array(of: .of(ComponentTemplateSpec.self), listMapKeys: ["name"]),
            "scriptSpecs": .array(of: .of(ComponentTemplateSpec.self), listMapKeys: ["name"]),
            "monitor": .of(MonitorConfig.self),
            "podSpec": .kubernetes("io.k8s.api.core.v1.PodSpec"),
            "service": .of(ServiceSpec.self),
            "volumeTypes": .array(of: .of(VolumeTypeSpec.self), listMapKeys: ["name"]),
        ], required: ["name", "workloadType"])
}

/// A ConfigMap template mounted into the component's Pods (KubeBlocks' ComponentConfigSpec and
/// ComponentTemplateSpec): the operator renders `templateRef` into `<cluster>-<component>-<name>`.
public struct ComponentTemplateSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var templateRef: String
    /// Where the template ConfigMap lives; KubeBlocks' default is `default`.
    public var namespace: String?
    /// The Pod volume the rendered ConfigMap is mounted as; the podSpec mounts it by this name.
    public var volumeName: String
    public var defaultMode: Int32?

    public init(name: String, templateRef: String, namespace: String? = nil, volumeName: String, defaultMode: Int32? = nil) {
        self.name = name
        self.templateRef = templateRef
        self.namespace = namespace
        self.volumeName = volumeName
        self.defaultMode = defaultMode
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(maxLength: 63),
            "templateRef": .string(pattern: #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#, maxLength: 63),
            "namespace": Schema.string(pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", maxLength: 63).defaulting(to: "default"),
            "volumeName": .dnsLabel(maxLength: 32),
            "defaultMode": .integer(minimum: 0, maximum: 0o777),
        ], required: ["name", "templateRef", "volumeName"])
}

public struct MonitorConfig: Codable, Sendable, Hashable, SchemaDescribed {
    /// Whether the operator's built-in exporter is used; false means the engine serves its own metrics.
    public var builtIn: Bool?
    public var exporterConfig: ExporterConfig?

    public init(builtIn: Bool? = nil, exporterConfig: ExporterConfig? = nil) {
        self.builtIn = builtIn
        self.exporterConfig = exporterConfig
    }

    public struct ExporterConfig: Codable, Sendable, Hashable, SchemaDescribed {
        public var scrapePort: IntOrString
        public var scrapePath: String?

        public init(scrapePort: IntOrString, scrapePath: String? = nil) {
            self.scrapePort = scrapePort
            self.scrapePath = scrapePath
        }

        public static let schema: Schema = {
            var port = Schema()
            port.intOrString = true
            return Schema.object(
                [
                    "scrapePort": port,
                    "scrapePath": Schema.string(maxLength: 128).defaulting(to: "/metrics"),
                ], required: ["scrapePort"])
        }()
    }

    public static let schema = Schema.object([
        "builtIn": .boolean,
        "exporterConfig": .of(ExporterConfig.self),
    ])
}

/// The ports of the component's main Service `<cluster>-<component>`.
public struct ServiceSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var ports: [CoreV1.ServicePort]?

    public init(ports: [CoreV1.ServicePort]? = nil) {
        self.ports = ports
    }

    public static let schema = Schema.object([
        "ports": .array(of: .kubernetes("io.k8s.api.core.v1.ServicePort"))
    ])
}

/// What a volume of the podSpec holds, so that backups and metrics know the data volume.
public struct VolumeTypeSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var type: VolumeType?

    public init(name: String, type: VolumeType? = nil) {
        self.name = name
        self.type = type
    }

    public enum VolumeType: String, Codable, Sendable, Hashable, CaseIterable {
        case data
        case log
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(),
            "type": .string(oneOf: VolumeType.self),
        ], required: ["name"])
}

// MARK: Defaults and validation

extension ClusterDefinition {
    /// The definition with the values the API server would default filled in (template namespace `default`).
    public func withDefaults() -> ClusterDefinition {
        var copy = self
        copy.apiVersion = copy.apiVersion ?? Self.descriptor.apiVersion
        copy.kind = copy.kind ?? Self.descriptor.kind
        for index in copy.spec.componentDefs.indices {
            copy.spec.componentDefs[index].configSpecs = copy.spec.componentDefs[index].configSpecs?.map { $0.withDefaults() }
            copy.spec.componentDefs[index].scriptSpecs = copy.spec.componentDefs[index].scriptSpecs?.map { $0.withDefaults() }
            if var exporter = copy.spec.componentDefs[index].monitor?.exporterConfig {
                exporter.scrapePath = exporter.scrapePath ?? "/metrics"
                copy.spec.componentDefs[index].monitor?.exporterConfig = exporter
            }
        }
        return copy
    }

    /// Every problem the schema cannot express.
    public func validate() -> [FieldError] {
        let componentDefs = FieldPath("spec.componentDefs")
        var errors: [FieldError] = []
        if spec.componentDefs.isEmpty {
            errors.append(
                FieldError(
                    field: componentDefs.description, message: "Required value: at least one component definition",
                    fix: "describe the engine's component under spec.componentDefs"))
        }
        for (index, component) in spec.componentDefs.enumerated() {
            errors += component.validate(at: componentDefs.index(index))
        }
        errors += Check.uniqueNames(spec.componentDefs.map(\.name), at: componentDefs)
        errors += validateConnectionCredential()
        return errors
    }

    /// The variables the operator replaces in `connectionCredential` (DESIGN §1), besides `$(SVC_PORT_<port name>)`.
    public static let credentialVariables = ["RANDOM_PASSWD", "UUID", "SVC_FQDN", "HEADLESS_SVC_FQDN"]

    /// Every `$(...)` of the credential template is a variable the operator knows, and every port it names is a
    /// service port of the definition; otherwise the Secret would carry the literal text.
    private func validateConnectionCredential() -> [FieldError] {
        let portNames = spec.componentDefs.flatMap { ($0.service?.ports ?? []).compactMap(\.name) }
        var errors: [FieldError] = []
        for (key, template) in (spec.connectionCredential ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = FieldPath("spec.connectionCredential").key(key).description
            for variable in Self.variables(in: template) {
                if variable.hasPrefix("SVC_PORT_") {
                    let port = String(variable.dropFirst("SVC_PORT_".count))
                    if !portNames.contains(port) {
                        errors.append(
                            FieldError(
                                field: field, message: "Invalid value: \"$(\(variable))\": no service port is named \"\(port)\"",
                                fix: "use one of: \(portNames.map { "$(SVC_PORT_\($0))" }.joined(separator: ", "))"))
                    }
                } else if !Self.credentialVariables.contains(variable) {
                    errors.append(
                        FieldError(
                            field: field, message: "Invalid value: \"$(\(variable))\": not a variable the operator replaces",
                            fix: "use \(Self.credentialVariables.map { "$(\($0))" }.joined(separator: ", ")) or $(SVC_PORT_<port name>)"))
                }
            }
        }
        return errors
    }

    /// The names inside `$(...)` in `template`.
    static func variables(in template: String) -> [String] {
        var names: [String] = []
        var rest = template[...]
        while let start = rest.range(of: "$(") {
            guard let end = rest[start.upperBound...].firstIndex(of: ")") else { break }
            names.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return names
    }
}

extension ClusterComponentDefinition {
    /// The container port `monitor.exporterConfig.scrapePort` names, as Prometheus's `prometheus.io/port` needs it.
    public var scrapePort: Int32? {
        switch monitor?.exporterConfig?.scrapePort {
        case .int(let port)?: port
        case .string(let name)?:
            (podSpec?.containers ?? []).flatMap { $0.ports ?? [] }.first { $0.name == name }?.containerPort
        case nil: nil
        }
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors = Check.dnsLabel(name, at: path.child("name"), maxLength: 22, what: "component")
        errors += validateMonitor(at: path.child("monitor"))
        let containers = podSpec?.containers ?? []
        if containers.isEmpty {
            errors.append(
                FieldError(
                    field: path.child("podSpec.containers").description, message: "Required value",
                    fix: "give the component at least one container (its image comes from the ClusterVersion)"))
        }
        errors += Check.uniqueNames(containers.map(\.name), at: path.child("podSpec.containers"))
        // A template is useless unless a container mounts its volume; this is the usual typo.
        let mounted = Set(((podSpec?.initContainers ?? []) + containers).flatMap { ($0.volumeMounts ?? []).map(\.name) })
        for (listName, templates) in [("configSpecs", configSpecs ?? []), ("scriptSpecs", scriptSpecs ?? [])] {
            let list = path.child(listName)
            errors += Check.uniqueNames(templates.map(\.name), at: list)
            for (index, template) in templates.enumerated() where !mounted.contains(template.volumeName) {
                errors.append(
                    FieldError(
                        field: list.index(index).child("volumeName").description,
                        message: "Invalid value: \"\(template.volumeName)\": no container of the podSpec mounts a volume of that name",
                        fix: "add a volumeMount named \"\(template.volumeName)\" to the container that reads \(template.templateRef)"))
            }
        }
        let ports = service?.ports ?? []
        errors += Check.uniqueNames(ports.map { $0.name ?? "" }, at: path.child("service.ports"))
        for (index, port) in ports.enumerated() where ports.count > 1 && (port.name ?? "").isEmpty {
            errors.append(
                FieldError(
                    field: path.child("service.ports").index(index).child("name").description,
                    message: "Required value: a Service with several ports must name each",
                    fix: "name the port; connection credentials refer to it as $(SVC_PORT_<name>)"))
        }
        return errors
    }
}

extension ComponentTemplateSpec {
    func withDefaults() -> ComponentTemplateSpec {
        var copy = self
        copy.namespace = copy.namespace ?? "default"
        return copy
    }
}

extension ClusterComponentDefinition {
    /// The operator ships no exporter of its own, so a component's metrics must come from an endpoint it names.
    private func validateMonitor(at path: FieldPath) -> [FieldError] {
        guard let monitor else { return [] }
        var errors: [FieldError] = []
        if monitor.builtIn == true {
            errors.append(
                FieldError(
                    field: path.child("builtIn").description,
                    message: "Unsupported value: true: this operator has no built-in exporter",
                    fix: "set builtIn: false and name the engine's own metrics endpoint in exporterConfig"))
        }
        if case .string(let name)? = monitor.exporterConfig?.scrapePort, scrapePort == nil {
            let ports = (podSpec?.containers ?? []).flatMap { $0.ports ?? [] }.compactMap(\.name)
            errors.append(
                FieldError(
                    field: path.child("exporterConfig.scrapePort").description,
                    message: "Not found: no container port is named \"\(name)\"",
                    fix: ports.isEmpty ? "give a port number" : "use a port number or one of: \(ports.joined(separator: ", "))"))
        }
        return errors
    }
}
