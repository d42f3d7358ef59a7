import KubeKit

/// The API group and version of every VectorBlocks kind.
public enum VectorBlocksAPI {
    public static let group = "apps.vectorblocks.io"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(group)/\(version)"
    /// The annotation that marks the ClusterVersion a Cluster gets when it names none.
    public static let defaultClusterVersionAnnotation = "\(group)/is-default-cluster-version"
    /// `kubectl get vectorblocks` lists every kind; `all` includes the namespaced ones, as KubeBlocks does.
    public static let categories = ["vectorblocks", "all"]
}

/// Whether a definition or version can be used by Clusters (KubeBlocks' `Phase` of ClusterDefinition and
/// ClusterVersion).
public enum AvailabilityPhase: String, Codable, Sendable, Hashable, CaseIterable {
    case available = "Available"
    case unavailable = "Unavailable"
}

/// The status every definition-like kind reports (KubeBlocks' ClusterDefinitionStatus and ClusterVersionStatus).
public struct AvailabilityStatus: Codable, Sendable, Hashable, SchemaDescribed {
    public var phase: AvailabilityPhase?
    public var message: String?
    public var observedGeneration: Int64?
    /// For a ClusterVersion: the generation of its ClusterDefinition it was checked against.
    public var clusterDefGeneration: Int64?

    public init(
        phase: AvailabilityPhase? = nil, message: String? = nil, observedGeneration: Int64? = nil,
        clusterDefGeneration: Int64? = nil
    ) {
        self.phase = phase
        self.message = message
        self.observedGeneration = observedGeneration
        self.clusterDefGeneration = clusterDefGeneration
    }

    public static let schema = Schema.object([
        "phase": .string(oneOf: AvailabilityPhase.self),
        "message": .string(),
        "observedGeneration": .integer(format: "int64"),
        "clusterDefGeneration": .integer(format: "int64"),
    ])
}

/// A Service a Cluster component asks for beyond the default ones (KubeBlocks' ClusterComponentService), also used
/// by the Expose operation.
public struct ClusterComponentService: Codable, Sendable, Hashable, SchemaDescribed {
    public var name: String
    public var serviceType: ServiceType?
    public var annotations: [String: String]?

    public init(name: String, serviceType: ServiceType? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.serviceType = serviceType
        self.annotations = annotations
    }

    public enum ServiceType: String, Codable, Sendable, Hashable, CaseIterable {
        case clusterIP = "ClusterIP"
        case nodePort = "NodePort"
        case loadBalancer = "LoadBalancer"
    }

    public static let schema = Schema.object(
        [
            "name": .dnsLabel(maxLength: 15).describing("Service name suffix: the Service is named <cluster>-<component>-<name>."),
            "serviceType": Schema.string(oneOf: ServiceType.self).defaulting(to: "ClusterIP"),
            "annotations": .stringMap,
        ], required: ["name"])
}

extension [String: Quantity] {
    /// The quantities in `self` that exceed the matching one in `limits`.
    func exceeding(_ limits: [String: Quantity]) -> [(resource: String, request: Quantity, limit: Quantity)] {
        self.keys.sorted().compactMap { resource in
            guard let request = self[resource], let limit = limits[resource], limit < request else { return nil }
            return (resource, request, limit)
        }
    }
}

extension CoreV1.ResourceRequirements {
    /// Requests must not exceed limits, as the API server checks for Pods; we check it on the Cluster already so the
    /// user hears about it before the StatefulSet fails to make Pods.
    public func validate(at path: FieldPath) -> [FieldError] {
        (requests ?? [:]).exceeding(limits ?? [:]).map { resource, request, limit in
            FieldError(
                field: path.child("requests").key(resource).description,
                message: "Invalid value: \"\(request)\": must be less than or equal to \(resource) limit of \(limit)",
                fix: "raise limits.\(resource) to at least \(request) or lower the request")
        }
    }
}
