import KubeKit

/// One release of an engine (KubeBlocks' ClusterVersion): the images of each component's containers, merged by
/// container name over the definition's podSpec. Cluster-scoped.
public struct ClusterVersion: KubernetesObject, SchemaDescribed {
    public static let descriptor = ResourceDescriptor(
        group: VectorBlocksAPI.group, version: VectorBlocksAPI.version, kind: "ClusterVersion",
        plural: "clusterversions", namespaced: false)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: MetaV1.ObjectMeta?
    public var spec: ClusterVersionSpec
    public var status: AvailabilityStatus?

    public init(metadata: MetaV1.ObjectMeta? = nil, spec: ClusterVersionSpec, status: AvailabilityStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let schema = Schema.object(
        [
            "spec": .of(ClusterVersionSpec.self),
            "status": .of(AvailabilityStatus.self),
        ], required: ["spec"])

    /// Whether Clusters that name no version get this one.
    public var isDefault: Bool {
        metadata?.annotations?[VectorBlocksAPI.defaultClusterVersionAnnotation] == "true"
    }
}

public struct ClusterVersionSpec: Codable, Sendable, Hashable, SchemaDescribed {
    public var clusterDefinitionRef: String
    public var componentVersions: [ClusterComponentVersion]

    public init(clusterDefinitionRef: String, componentVersions: [ClusterComponentVersion]) {
        self.clusterDefinitionRef = clusterDefinitionRef
        self.componentVersions = componentVersions
    }

    public static let schema = Schema.object(
        [
            "clusterDefinitionRef": Schema.string(pattern: #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#, maxLength: 63)
                .immutable(message: "clusterDefinitionRef is immutable"),
            "componentVersions": .array(of: .of(ClusterComponentVersion.self), listMapKeys: ["componentDefRef"], minItems: 1),
        ], required: ["clusterDefinitionRef", "componentVersions"])
}

public struct ClusterComponentVersion: Codable, Sendable, Hashable, SchemaDescribed {
    public var componentDefRef: String
    public var versionsContext: VersionsContext

    public init(componentDefRef: String, versionsContext: VersionsContext) {
        self.componentDefRef = componentDefRef
        self.versionsContext = versionsContext
    }

    public static let schema = Schema.object(
        [
            "componentDefRef": .dnsLabel(maxLength: 22),
            "versionsContext": .of(VersionsContext.self),
        ], required: ["componentDefRef", "versionsContext"])
}

/// Containers merged by name over the definition's podSpec; usually only `name` and `image` are set.
public struct VersionsContext: Codable, Sendable, Hashable, SchemaDescribed {
    public var initContainers: [CoreV1.Container]?
    public var containers: [CoreV1.Container]?

    public init(initContainers: [CoreV1.Container]? = nil, containers: [CoreV1.Container]? = nil) {
        self.initContainers = initContainers
        self.containers = containers
    }

    public static let schema = Schema.object([
        "initContainers": .array(of: .kubernetes("io.k8s.api.core.v1.Container"), listMapKeys: ["name"]),
        "containers": .array(of: .kubernetes("io.k8s.api.core.v1.Container"), listMapKeys: ["name"]),
    ])
}

// MARK: Defaults and validation

extension ClusterVersion {
    public func withDefaults() -> ClusterVersion {
        var copy = self
        copy.apiVersion = copy.apiVersion ?? Self.descriptor.apiVersion
        copy.kind = copy.kind ?? Self.descriptor.kind
        return copy
    }

    /// Every problem the schema cannot express; with the definition, also that the version covers each of its
    /// components and names only containers the definition has.
    public func validate(definition: ClusterDefinition? = nil) -> [FieldError] {
        let versions = FieldPath("spec.componentVersions")
        var errors = Check.required(
            spec.clusterDefinitionRef, at: FieldPath("spec.clusterDefinitionRef"),
            fix: "name the ClusterDefinition this version belongs to")
        errors += Check.uniqueNames(spec.componentVersions.map(\.componentDefRef), at: versions, field: "componentDefRef")
        for (index, version) in spec.componentVersions.enumerated() {
            let path = versions.index(index)
            let context = version.versionsContext
            for (listName, containers) in [("initContainers", context.initContainers ?? []), ("containers", context.containers ?? [])] {
                for (position, container) in containers.enumerated() where (container.image ?? "").isEmpty {
                    errors.append(
                        FieldError(
                            field: path.child("versionsContext").child(listName).index(position).child("image").description,
                            message: "Required value: a version must give the image of \"\(container.name)\"",
                            fix: "set the image, e.g. \"docker.io/qdrant/qdrant:v1.12.5\""))
                }
            }
        }
        guard let definition else { return errors }
        let definitionName = definition.metadata?.name ?? ""
        if definitionName != spec.clusterDefinitionRef {
            errors.append(
                FieldError(
                    field: "spec.clusterDefinitionRef",
                    message: "Invalid value: \"\(spec.clusterDefinitionRef)\": the definition checked against is \"\(definitionName)\"",
                    fix: "set clusterDefinitionRef to \"\(definitionName)\""))
        }
        for (index, version) in spec.componentVersions.enumerated() {
            let path = versions.index(index)
            guard let componentDef = definition.componentDef(named: version.componentDefRef) else {
                errors.append(
                    FieldError(
                        field: path.child("componentDefRef").description,
                        message: "Not found: \"\(version.componentDefRef)\" is not a component of ClusterDefinition \"\(definitionName)\"",
                        fix: "use one of: \(definition.spec.componentDefs.map(\.name).joined(separator: ", "))"))
                continue
            }
            let pod = componentDef.podSpec
            for (listName, given, known) in [
                ("initContainers", version.versionsContext.initContainers ?? [], pod?.initContainers ?? []),
                ("containers", version.versionsContext.containers ?? [], pod?.containers ?? []),
            ] {
                let knownNames = Set(known.map(\.name))
                for (position, container) in given.enumerated() where !knownNames.contains(container.name) {
                    errors.append(
                        FieldError(
                            field: path.child("versionsContext").child(listName).index(position).child("name").description,
                            message:
                                "Not found: the podSpec of \"\(componentDef.name)\" has no \(listName == "containers" ? "container" : "init container") \"\(container.name)\"",
                            fix: "use one of: \(known.map(\.name).joined(separator: ", "))"))
                }
            }
        }
        let covered = Set(spec.componentVersions.map(\.componentDefRef))
        for componentDef in definition.spec.componentDefs where !covered.contains(componentDef.name) {
            errors.append(
                FieldError(
                    field: versions.description,
                    message: "Required value: no version of component \"\(componentDef.name)\" of ClusterDefinition \"\(definitionName)\"",
                    fix: "add a componentVersions entry with componentDefRef \"\(componentDef.name)\" and its images"))
        }
        return errors
    }
}
