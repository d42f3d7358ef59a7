import Foundation
import KubeKit
import VectorBlocksAPI

/// The choices an installation of the operator makes. Their defaults are the chart's values.yaml and what
/// `deploy/operator.yaml` is made with.
public struct OperatorSettings: Sendable, Hashable {
    public var image = AddonImage(
        valuesKey: "image", registry: Release.registry, repository: Release.operatorRepository, tag: Release.version)
    public var imagePullPolicy = "IfNotPresent"
    /// The images of every VectorPipeline's workers: the release's own, as `deploy/docker/` builds them.
    public var pelicanImage = AddonImage(
        valuesKey: "pipelineImages.pelican", registry: Release.registry, repository: Release.pelicanRepository, tag: Release.version)
    public var emuImage = AddonImage(
        valuesKey: "pipelineImages.emu", registry: Release.registry, repository: Release.emuRepository, tag: Release.version)
    public var replicas: Int32 = 2
    public var resources = CoreV1.ResourceRequirements(
        limits: ["cpu": "500m", "memory": "256Mi"], requests: ["cpu": "100m", "memory": "128Mi"])
    /// The namespaces whose Clusters the operator manages; empty for all.
    public var watchNamespaces: [String] = []
    public var logLevel = "info"
    public var leaderElection = true
    public var topologySpreadConstraints: [CoreV1.TopologySpreadConstraint] = []

    public init() {}

    /// The operator's `--log-level` values (swift-log's levels).
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The chart's values.schema.json: Helm refuses other values before rendering, naming the value.
    static let valuesSchema: JSONValue = {
        let text: JSONValue = ["type": "string", "minLength": 1]
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "required": ["image", "imagePullPolicy", "pipelineImages", "replicas", "resources", "watchNamespaces", "logLevel", "leaderElection"],
            "properties": [
                "image": [
                    "type": "object", "additionalProperties": false, "required": ["registry", "repository", "tag"],
                    "properties": ["registry": text, "repository": text, "tag": text],
                ],
                "imagePullPolicy": ["enum": ["Always", "IfNotPresent", "Never"]],
                "pipelineImages": [
                    "type": "object", "additionalProperties": false, "required": ["pelican", "emu"],
                    "properties": [
                        "pelican": [
                            "type": "object", "additionalProperties": false, "required": ["registry", "repository", "tag"],
                            "properties": ["registry": text, "repository": text, "tag": text],
                        ],
                        "emu": [
                            "type": "object", "additionalProperties": false, "required": ["registry", "repository", "tag"],
                            "properties": ["registry": text, "repository": text, "tag": text],
                        ],
                    ],
                ],
                "replicas": ["type": "integer", "minimum": 1],
                "resources": ["type": "object"],
                "watchNamespaces": [
                    "type": "array",
                    "items": ["type": "string", "maxLength": 63, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"],
                ],
                "logLevel": ["enum": .array(logLevels.map(JSONValue.string))],
                "leaderElection": ["type": "boolean"],
                "topologySpreadConstraints": ["type": "array", "items": ["type": "object"]],
            ],
        ]
    }()

    /// The chart's values.yaml.
    func values() throws -> JSONValue {
        [
            "image": ["registry": .string(image.registry), "repository": .string(image.repository), "tag": .string(image.tag)],
            "imagePullPolicy": .string(imagePullPolicy),
            "pipelineImages": [
                "pelican": ["registry": .string(pelicanImage.registry), "repository": .string(pelicanImage.repository), "tag": .string(pelicanImage.tag)],
                "emu": ["registry": .string(emuImage.registry), "repository": .string(emuImage.repository), "tag": .string(emuImage.tag)],
            ],
            "replicas": .int(Int64(replicas)),
            "resources": try JSONValue(encoding: resources),
            "watchNamespaces": .array(watchNamespaces.map(JSONValue.string)),
            "logLevel": .string(logLevel),
            "leaderElection": .bool(leaderElection),
            "topologySpreadConstraints": try JSONValue(encoding: topologySpreadConstraints),
        ]
    }
}

/// What the objects are made with: concrete values for the plain manifests, Helm template expressions over the
/// chart's values in every string field for the chart (the other fields become `ChartSlot`s).
struct OperatorParameters: Sendable {
    var namespace: String
    var image: String
    var imagePullPolicy: String
    var pelicanImage: String
    var emuImage: String
    var leaderElectFlag: String
    var watchNamespaces: String
    var logLevel: String
    var replicas: Int32
    var resources: CoreV1.ResourceRequirements
    var topologySpreadConstraints: [CoreV1.TopologySpreadConstraint]
}

/// The objects that run the operator in a cluster.
public struct OperatorObjects: Sendable, Hashable {
    public var namespace: CoreV1.Namespace
    public var serviceAccount: CoreV1.ServiceAccount
    public var clusterRole: RbacV1.ClusterRole
    public var clusterRoleBinding: RbacV1.ClusterRoleBinding
    public var role: RbacV1.Role
    public var roleBinding: RbacV1.RoleBinding
    public var metricsService: CoreV1.Service
    public var deployment: AppsV1.Deployment
    public var disruptionBudget: PolicyV1.PodDisruptionBudget

    /// Every object but the Namespace, by the name of its chart template, in the order they are applied.
    func chartDocuments() throws -> [(template: String, document: JSONValue)] {
        [
            ("serviceaccount", try JSONValue(encoding: serviceAccount)),
            ("clusterrole", try JSONValue(encoding: clusterRole)),
            ("clusterrolebinding", try JSONValue(encoding: clusterRoleBinding)),
            ("role", try JSONValue(encoding: role)),
            ("rolebinding", try JSONValue(encoding: roleBinding)),
            ("service", try JSONValue(encoding: metricsService)),
            ("deployment", try JSONValue(encoding: deployment)),
            ("poddisruptionbudget", try JSONValue(encoding: disruptionBudget)),
        ]
    }
}

/// The operator described once in Swift and rendered two ways from that one source, as the addons are: plain
/// manifests in `deploy/operator.yaml` for kubectl users, and the Helm chart `charts/vectorblocks` (with the CRDs).
public struct OperatorPackage: Sendable {
    public static let version = Release.version
    public static let name = "vectorblocks-operator"
    public static let chartName = "vectorblocks"
    public static let defaultNamespace = Addon.defaultNamespace
    /// The user the image runs as (distroless `nonroot`).
    public static let user: Int64 = 65532
    public static let metricsPort: Int32 = 8080
    public static let healthPort: Int32 = 8081
    /// The labels the Deployment selects its pods by, and the PodDisruptionBudget, the Service and the
    /// anti-affinity by.
    public static let selectorLabels = ["app.kubernetes.io/name": name]
    static let labels = selectorLabels.merging(
        ["app.kubernetes.io/part-of": "vectorblocks", "app.kubernetes.io/component": "operator"]) { current, _ in current }

    public var settings: OperatorSettings

    public init(settings: OperatorSettings = OperatorSettings()) {
        self.settings = settings
    }

    /// The objects with concrete values, as `deploy/operator.yaml` holds them.
    public func objects(namespace: String = OperatorPackage.defaultNamespace) -> OperatorObjects {
        Self.build(
            OperatorParameters(
                namespace: namespace, image: settings.image.reference, imagePullPolicy: settings.imagePullPolicy,
                pelicanImage: settings.pelicanImage.reference, emuImage: settings.emuImage.reference,
                leaderElectFlag: settings.leaderElection ? "--leader-elect" : "--no-leader-elect",
                watchNamespaces: settings.watchNamespaces.joined(separator: ","), logLevel: settings.logLevel,
                replicas: settings.replicas, resources: settings.resources,
                topologySpreadConstraints: settings.topologySpreadConstraints))
    }

    /// The plain manifests, the Namespace first.
    public func manifests(namespace: String = OperatorPackage.defaultNamespace) throws -> [JSONValue] {
        let objects = objects(namespace: namespace)
        // As in the chart: minAvailable 1 of a single replica would block every node drain.
        let rest = try objects.chartDocuments().filter { settings.replicas > 1 || $0.template != "poddisruptionbudget" }
        let documents = [try JSONValue(encoding: objects.namespace)] + rest.map(\.document)
        for document in documents {
            if let text = Addon.firstTemplateText(in: document) {
                throw Addon.RenderError.templateSyntax(
                    object: "\(document["kind"]?.stringValue ?? "") \(document["metadata"]?["name"]?.stringValue ?? "")", text: text)
            }
        }
        return documents
    }

    public func plainYAML() throws -> String {
        try ManifestYAML.render(
            try manifests(),
            header: """
                The VectorBlocks operator: its namespace, service account, RBAC, Deployment, metrics Service and PodDisruptionBudget.
                Generated by vectorblocks-gen from Sources/VectorBlocksPackaging/Deploy. Do not edit.
                Regenerate with: swift run vectorblocks-gen deploy
                Install with: kubectl apply --server-side -f crds/ -f deploy/operator.yaml
                """)
    }

    /// The chart's files by path relative to `charts/vectorblocks/`; `crds` are the CRD files by file name, which
    /// Helm installs from the chart's `crds/` before the templates.
    public func chartFiles(crds: [String: String]) throws -> [String: String] {
        // The chart has no Namespace template: `helm install --create-namespace` makes it, and Helm refuses to
        // install over a Namespace it did not create.
        let image = settings.image
        let templated = Self.build(
            OperatorParameters(
                namespace: "{{ .Release.Namespace }}", image: image.template, imagePullPolicy: "{{ .Values.imagePullPolicy }}",
                pelicanImage: settings.pelicanImage.template, emuImage: settings.emuImage.template,
                leaderElectFlag: "{{ if .Values.leaderElection }}--leader-elect{{ else }}--no-leader-elect{{ end }}",
                watchNamespaces: "{{ join \",\" .Values.watchNamespaces }}", logLevel: "{{ .Values.logLevel }}",
                replicas: settings.replicas, resources: settings.resources, topologySpreadConstraints: []))
        let replicas = ChartSlot("replicas", .scalar(".Values.replicas"))
        let resources = ChartSlot("resources", .block(".Values.resources"))
        let topology = ChartSlot("topology-spread-constraints", .optionalBlock(".Values.topologySpreadConstraints"))
        // The plain manifests must hold no "{{" of their own, or Helm would evaluate it and the chart would differ.
        _ = try manifests()

        let header = "Generated by vectorblocks-gen from Sources/VectorBlocksPackaging/Deploy. Do not edit.\nRegenerate with: swift run vectorblocks-gen deploy"
        var files: [String: String] = [:]
        for (template, document) in try templated.chartDocuments() {
            var document = document
            var slots: [ChartSlot] = []
            if template == "deployment" {
                document = try replicas.place(in: document, at: ["spec", "replicas"])
                document = try resources.place(in: document, at: ["spec", "template", "spec", "containers", 0, "resources"])
                document = try topology.place(in: document, at: ["spec", "template", "spec", "topologySpreadConstraints"])
                slots = [replicas, resources, topology]
            }
            var text = try ChartSlot.fill(try ManifestYAML.render([document], header: header), slots: slots)
            if template == "deployment" {
                // Without leader election every replica would reconcile: operators writing the same objects at once.
                text = """
                    {{- if and (not .Values.leaderElection) (gt (int .Values.replicas) 1) }}
                    {{- fail "leaderElection: false runs every replica as the active operator; set replicas: 1 or leaderElection: true" }}
                    {{- end }}

                    """ + text
            }
            if template == "poddisruptionbudget" {
                text = "{{- if gt (int .Values.replicas) 1 }}\n" + text + "{{- end }}\n"
            }
            files["templates/\(template).yaml"] = text
        }
        for (name, crd) in crds {
            files["crds/\(name)"] = crd
        }
        let chart: JSONValue = [
            "apiVersion": "v2",
            "name": .string(Self.chartName),
            "description": "The VectorBlocks operator: Qdrant and PostgreSQL with pgvector clusters, and the pipelines that feed them, from custom resources.",
            "type": "application",
            "version": .string(Self.version),
            "appVersion": .string(Self.version),
            "keywords": ["vectorblocks", "operator", "qdrant", "pgvector", "vector", "database"],
            "home": "https://github.com/vectorblocks/vectorblocks",
            "icon": "https://vectorblocks.io/images/vectorblocks.svg",
            "annotations": ["category": "Database"],
        ]
        files["Chart.yaml"] = try ManifestYAML.render([chart], header: header)
        files["values.yaml"] = try ManifestYAML.render(
            [try settings.values()],
            header: header + """

                image: the operator's image. replicas: one leads (a Lease), the others stand by.
                watchNamespaces: the namespaces whose Clusters the operator manages; empty for all.
                logLevel: trace, debug, info, notice, warning, error or critical. leaderElection: false only with one replica.
                topologySpreadConstraints: optional, for the operator's pods (which prefer different nodes already).
                """)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        files["values.schema.json"] = String(decoding: try encoder.encode(OperatorSettings.valuesSchema), as: UTF8.self) + "\n"
        return files
    }

    static func build(_ parameters: OperatorParameters) -> OperatorObjects {
        let namespace = parameters.namespace
        func metadata(_ name: String, namespaced: Bool = true) -> MetaV1.ObjectMeta {
            MetaV1.ObjectMeta(labels: labels, name: name, namespace: namespaced ? namespace : nil)
        }
        let subject = RbacV1.Subject(kind: "ServiceAccount", name: name, namespace: namespace)
        let leaderElectionRole = "\(name)-leader-election"

        let container = CoreV1.Container(
            args: [
                "--log-format", "json",
                parameters.leaderElectFlag,
                // The kubelet expands $(POD_NAMESPACE) from the env below: the Lease lives where the operator runs.
                "--leader-election-namespace", "$(POD_NAMESPACE)",
                "--metrics-bind-address", ":\(metricsPort)",
                "--health-probe-bind-address", ":\(healthPort)",
            ],
            env: [
                PodParts.env("POD_NAMESPACE", field: "metadata.namespace"),
                PodParts.env("VB_WATCH_NAMESPACES", parameters.watchNamespaces),
                PodParts.env("VB_LOG_LEVEL", parameters.logLevel),
                PodParts.env("VB_PELICAN_IMAGE", parameters.pelicanImage),
                PodParts.env("VB_EMU_IMAGE", parameters.emuImage),
            ],
            image: parameters.image,
            imagePullPolicy: parameters.imagePullPolicy,
            livenessProbe: CoreV1.Probe(
                failureThreshold: 3, httpGet: CoreV1.HTTPGetAction(path: "/healthz", port: .string("health")),
                initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 5),
            name: "operator",
            ports: [
                CoreV1.ContainerPort(containerPort: metricsPort, name: "metrics", protocol: "TCP"),
                CoreV1.ContainerPort(containerPort: healthPort, name: "health", protocol: "TCP"),
            ],
            readinessProbe: CoreV1.Probe(
                failureThreshold: 3, httpGet: CoreV1.HTTPGetAction(path: "/readyz", port: .string("health")),
                initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5),
            resources: parameters.resources,
            securityContext: PodParts.restrictedContainer(user: user))
        let podSpec = CoreV1.PodSpec(
            affinity: CoreV1.Affinity(
                podAntiAffinity: CoreV1.PodAntiAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
                    // Preferred, not required: a one-node cluster still runs both replicas.
                    CoreV1.WeightedPodAffinityTerm(
                        podAffinityTerm: CoreV1.PodAffinityTerm(
                            labelSelector: MetaV1.LabelSelector(matchLabels: selectorLabels), topologyKey: "kubernetes.io/hostname"),
                        weight: 100)
                ])),
            containers: [container],
            securityContext: CoreV1.PodSecurityContext(
                runAsGroup: user, runAsNonRoot: true, runAsUser: user, seccompProfile: CoreV1.SeccompProfile(type: "RuntimeDefault")),
            serviceAccountName: name,
            topologySpreadConstraints: parameters.topologySpreadConstraints.isEmpty ? nil : parameters.topologySpreadConstraints)

        return OperatorObjects(
            namespace: CoreV1.Namespace(
                metadata: MetaV1.ObjectMeta(
                    // Pod Security Admission holds the operator's pods, and anything else put there, to the restricted profile.
                    labels: labels.merging(["pod-security.kubernetes.io/enforce": "restricted"]) { current, _ in current },
                    name: namespace)),
            serviceAccount: CoreV1.ServiceAccount(metadata: metadata(name)),
            clusterRole: RbacV1.ClusterRole(metadata: metadata(name, namespaced: false), rules: OperatorPermissions.clusterRules),
            clusterRoleBinding: RbacV1.ClusterRoleBinding(
                metadata: metadata(name, namespaced: false),
                roleRef: RbacV1.RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: name),
                subjects: [subject]),
            role: RbacV1.Role(metadata: metadata(leaderElectionRole), rules: OperatorPermissions.namespaceRules),
            roleBinding: RbacV1.RoleBinding(
                metadata: metadata(leaderElectionRole),
                roleRef: RbacV1.RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: leaderElectionRole),
                subjects: [subject]),
            metricsService: CoreV1.Service(
                metadata: metadata("\(name)-metrics"),
                spec: CoreV1.ServiceSpec(
                    ports: [CoreV1.ServicePort(name: "metrics", port: metricsPort, protocol: "TCP", targetPort: .string("metrics"))],
                    selector: selectorLabels, type: "ClusterIP")),
            deployment: AppsV1.Deployment(
                metadata: metadata(name),
                spec: AppsV1.DeploymentSpec(
                    replicas: parameters.replicas, selector: MetaV1.LabelSelector(matchLabels: selectorLabels),
                    template: CoreV1.PodTemplateSpec(metadata: MetaV1.ObjectMeta(labels: labels), spec: podSpec))),
            disruptionBudget: PolicyV1.PodDisruptionBudget(
                metadata: metadata(name),
                spec: PolicyV1.PodDisruptionBudgetSpec(minAvailable: 1, selector: MetaV1.LabelSelector(matchLabels: selectorLabels))))
    }
}
