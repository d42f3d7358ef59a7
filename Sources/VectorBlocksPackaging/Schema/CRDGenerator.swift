import KubeKit
import VectorBlocksAPI

/// What a CRD says about a kind beyond its schema: names, printer columns, scope.
public struct CustomResourceKind: Sendable {
    public struct PrinterColumn: Sendable {
        public var name: String
        public var type: String
        public var jsonPath: String

        public init(_ name: String, type: String = "string", jsonPath: String) {
            self.name = name
            self.type = type
            self.jsonPath = jsonPath
        }

        static let age = PrinterColumn("AGE", type: "date", jsonPath: ".metadata.creationTimestamp")
    }

    public var descriptor: ResourceDescriptor
    public var singular: String
    public var shortNames: [String]
    public var printerColumns: [PrinterColumn]
    public var schema: Schema

    /// The kinds of `apps.vectorblocks.io/v1alpha1`, in the order their CRDs are written.
    public static let all: [CustomResourceKind] = [
        CustomResourceKind(
            descriptor: ClusterDefinition.descriptor, singular: "clusterdefinition", shortNames: ["cd"],
            printerColumns: [PrinterColumn("TYPE", jsonPath: ".spec.type"), PrinterColumn("STATUS", jsonPath: ".status.phase"), .age],
            schema: ClusterDefinition.schema),
        CustomResourceKind(
            descriptor: ClusterVersion.descriptor, singular: "clusterversion", shortNames: ["cv"],
            printerColumns: [
                PrinterColumn("DEFINITION", jsonPath: ".spec.clusterDefinitionRef"), PrinterColumn("STATUS", jsonPath: ".status.phase"), .age,
            ],
            schema: ClusterVersion.schema),
        CustomResourceKind(
            descriptor: Cluster.descriptor, singular: "cluster", shortNames: ["vbc"],
            printerColumns: [
                PrinterColumn("DEFINITION", jsonPath: ".spec.clusterDefinitionRef"),
                PrinterColumn("VERSION", jsonPath: ".spec.clusterVersionRef"),
                PrinterColumn("TERMINATION-POLICY", jsonPath: ".spec.terminationPolicy"),
                PrinterColumn("STATUS", jsonPath: ".status.phase"), .age,
            ],
            schema: Cluster.schema),
        CustomResourceKind(
            descriptor: OpsRequest.descriptor, singular: "opsrequest", shortNames: ["ops"],
            printerColumns: [
                PrinterColumn("TYPE", jsonPath: ".spec.type"), PrinterColumn("CLUSTER", jsonPath: ".spec.clusterRef"),
                PrinterColumn("STATUS", jsonPath: ".status.phase"), PrinterColumn("PROGRESS", jsonPath: ".status.progress"), .age,
            ],
            schema: OpsRequest.schema),
        CustomResourceKind(
            descriptor: VectorPipeline.descriptor, singular: "vectorpipeline", shortNames: ["vp"],
            printerColumns: [
                PrinterColumn("SOURCE", jsonPath: ".spec.source.table"), PrinterColumn("SINKS", jsonPath: ".spec.sinks[*].name"),
                PrinterColumn("PHASE", jsonPath: ".status.phase"), PrinterColumn("BACKLOG", type: "integer", jsonPath: ".status.backlog"),
                PrinterColumn("LAG", type: "integer", jsonPath: ".status.lagSeconds"), .age,
            ],
            schema: VectorPipeline.schema),
        CustomResourceKind(
            descriptor: Backup.descriptor, singular: "backup", shortNames: ["vbb"],
            printerColumns: [
                PrinterColumn("CLUSTER", jsonPath: ".spec.clusterName"), PrinterColumn("METHOD", jsonPath: ".spec.backupMethod"),
                PrinterColumn("STATUS", jsonPath: ".status.phase"), PrinterColumn("TOTAL-SIZE", type: "integer", jsonPath: ".status.totalSize"),
                PrinterColumn("COMPLETION-TIME", type: "date", jsonPath: ".status.completionTimestamp"), .age,
            ],
            schema: Backup.schema),
    ]

    /// `clusters.apps.vectorblocks.io`: the CRD's name and file name.
    public var crdName: String { descriptor.qualifiedResource }
}

/// Writes the CustomResourceDefinitions (apiextensions.k8s.io/v1) of the VectorBlocks kinds from their Swift schemas.
public struct CRDGenerator: Sendable {
    private let resolver: KubernetesSchemaResolver

    /// `openAPIDocument` is the reference Kubernetes OpenAPI v2 document, the source of the built-in types' schemas.
    public init(openAPIDocument: JSONValue) {
        resolver = KubernetesSchemaResolver(document: openAPIDocument)
    }

    public func customResourceDefinition(for kind: CustomResourceKind) throws -> JSONValue {
        var root = try kind.schema.rendered(with: resolver)
        var properties = root["properties"]?.objectValue ?? [:]
        properties["apiVersion"] = ["type": "string"]
        properties["kind"] = ["type": "string"]
        properties["metadata"] = ["type": "object"]
        root["properties"] = .object(properties)
        let columns: [JSONValue] = kind.printerColumns.map {
            ["name": .string($0.name), "type": .string($0.type), "jsonPath": .string($0.jsonPath)]
        }
        let descriptor = kind.descriptor
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": [
                "name": .string(kind.crdName),
                "labels": ["app.kubernetes.io/name": "vectorblocks", "app.kubernetes.io/part-of": "vectorblocks"],
            ],
            "spec": [
                "group": .string(descriptor.group),
                "names": [
                    "kind": .string(descriptor.kind),
                    "listKind": .string(descriptor.kind + "List"),
                    "plural": .string(descriptor.plural),
                    "singular": .string(kind.singular),
                    "shortNames": .array(kind.shortNames.map(JSONValue.string)),
                    "categories": .array(VectorBlocksAPI.categories.map(JSONValue.string)),
                ],
                "scope": .string(descriptor.namespaced ? "Namespaced" : "Cluster"),
                "versions": [
                    [
                        "name": .string(descriptor.version),
                        "served": true,
                        "storage": true,
                        "subresources": ["status": .object([:])],
                        "additionalPrinterColumns": .array(columns),
                        "schema": ["openAPIV3Schema": root],
                    ]
                ],
            ],
        ]
    }

    /// Every CRD, keyed by file name (`clusters.apps.vectorblocks.io.yaml`), rendered as YAML.
    public func files() throws -> [String: String] {
        var files: [String: String] = [:]
        for kind in CustomResourceKind.all {
            files["\(kind.crdName).yaml"] = try ManifestYAML.render(
                [try customResourceDefinition(for: kind)],
                header:
                    "Generated by vectorblocks-gen from Sources/VectorBlocksAPI. Do not edit.\nRegenerate with: swift run vectorblocks-gen crds --output crds")
        }
        return files
    }
}
