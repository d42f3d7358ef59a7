import Crypto
import Foundation
import KubeKit
import VectorBlocksAPI

/// What the desired objects of a Cluster are made from. The Cluster carries its defaults; `credential` holds the
/// Secret's values (kept from the stored Secret, see `ConnectionCredential`); `templates` the ConfigMaps that
/// configSpecs and scriptSpecs name, keyed `namespace/name`.
public struct ClusterBuildInput: Sendable {
    public var cluster: Cluster
    public var definition: ClusterDefinition
    public var version: ClusterVersion
    public var credential: [String: String]
    public var templates: [String: CoreV1.ConfigMap]
    /// The image of vectorblocks-backup, for pods that archive their WAL (`spec.backup.pitrEnabled`).
    public var backupImage = OperatorManager.Options.releaseBackupImage

    public init(
        cluster: Cluster, definition: ClusterDefinition, version: ClusterVersion, credential: [String: String],
        templates: [String: CoreV1.ConfigMap]
    ) {
        self.cluster = cluster
        self.definition = definition
        self.version = version
        self.credential = credential
        self.templates = templates
    }

    public static func templateKey(_ spec: ComponentTemplateSpec) -> String {
        "\(spec.namespace ?? "default")/\(spec.templateRef)"
    }
}

/// A reason the objects cannot be built, with the field to look at and the fix.
public struct ClusterBuildError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [FieldError]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// The objects the operator makes of a Cluster (DESIGN §2), as a pure function of the Cluster, its definition and
/// version, the credential and the template ConfigMaps: the same input gives the same objects, byte for byte.
public enum ClusterObjectsBuilder {
    public static func objects(_ input: ClusterBuildInput) throws -> [DesiredObject] {
        let cluster = input.cluster
        guard let name = cluster.metadata?.name, let namespace = cluster.metadata?.namespace,
            let uid = cluster.metadata?.uid
        else {
            throw ClusterBuildError(problems: [
                FieldError(
                    field: "metadata", message: "Required value: the Cluster has no name, namespace or uid",
                    fix: "build from a Cluster read from the API server")
            ])
        }
        let names = ClusterNames(cluster: name, namespace: namespace)
        let owner = MetaV1.OwnerReference(
            apiVersion: Cluster.descriptor.apiVersion, blockOwnerDeletion: true, controller: true,
            kind: Cluster.descriptor.kind, name: name, uid: uid)
        let definitionType = input.definition.spec.type ?? input.definition.metadata?.name ?? ""

        var objects: [DesiredObject] = []
        var problems: [FieldError] = []
        let secret = CoreV1.Secret(
            data: input.credential.mapValues { Data($0.utf8).base64EncodedString() },
            metadata: meta(names.credentialSecret, names, labels: names.clusterLabels(definitionType: definitionType), owner: owner),
            type: "Opaque")
        objects.append(try DesiredObject(secret))
        if let roleArn = backupRoleArn(input, definitionType: definitionType) {
            objects.append(
                try DesiredObject(
                    BackupServiceAccount.build(
                        names: names, roleArn: roleArn, labels: names.clusterLabels(definitionType: definitionType), owner: owner)))
        }

        for (index, component) in cluster.spec.componentSpecs.enumerated() {
            guard let componentDef = input.definition.componentDef(named: component.componentDefRef) else {
                problems.append(
                    FieldError(
                        field: "spec.componentSpecs[\(index)].componentDefRef",
                        message: "Not found: \"\(component.componentDefRef)\" is not a component of ClusterDefinition \"\(cluster.spec.clusterDefinitionRef)\"",
                        fix: "use one of: \(input.definition.spec.componentDefs.map(\.name).joined(separator: ", "))"))
                continue
            }
            do {
                objects += try componentObjects(
                    input, component: component, componentDef: componentDef, names: names, owner: owner,
                    definitionType: definitionType)
            } catch let error as ClusterBuildError {
                problems += error.problems
            }
        }
        guard problems.isEmpty else { throw ClusterBuildError(problems: problems) }
        return objects
    }

    static func componentObjects(
        _ input: ClusterBuildInput, component: ClusterComponentSpec, componentDef: ClusterComponentDefinition,
        names: ClusterNames, owner: MetaV1.OwnerReference, definitionType: String
    ) throws -> [DesiredObject] {
        let labels = names.labels(component: component.name, componentDef: componentDef.name, definitionType: definitionType)
        let replicas = component.replicas ?? 1
        var objects: [DesiredObject] = []

        let environment = environmentVariables(names: names, component: component.name, replicas: replicas)
            .merging(
                KubeBlocksVariables.componentEntries(
                    names: names, component: component.name, componentDef: componentDef.name, replicas: replicas,
                    clusterUID: owner.uid)
            ) { ours, _ in ours }
        var environmentData = environment
        let restore =
            componentDef.workloadType == .replication
            ? PgBasebackupRestore(cluster: input.cluster, definitionType: definitionType, uploaderImage: input.backupImage) : nil
        if componentDef.workloadType == .replication {
            // Not a template variable: a failover changes it, and must not re-render templates and roll the pods.
            environmentData[PrimaryDesignation.environmentKey] = PrimaryDesignation.designated(
                input.cluster, component: component.name, names: names)
            environmentData.merge(restore?.environment ?? [:]) { _, restoring in restoring }
        }
        objects.append(
            try DesiredObject(
                CoreV1.ConfigMap(
                    data: environmentData, metadata: meta(names.environmentConfigMap(component.name), names, labels: labels, owner: owner))))

        var renderedTemplates: [String: String] = [:]
        var problems: [FieldError] = []
        let templateLists = [("configSpecs", componentDef.configSpecs ?? []), ("scriptSpecs", componentDef.scriptSpecs ?? [])]
        for (listName, templates) in templateLists {
            for (position, spec) in templates.enumerated() {
                let field = "spec.componentDefs[\(componentDef.name)].\(listName)[\(position)].templateRef"
                guard let source = input.templates[ClusterBuildInput.templateKey(spec)] else {
                    problems.append(
                        FieldError(
                            field: field, message: "Not found: ConfigMap \"\(ClusterBuildInput.templateKey(spec))\"",
                            fix: "install the addon's ConfigMaps (kubectl apply -f deploy/addons/\(definitionType).yaml) or correct templateRef and namespace"))
                    continue
                }
                do {
                    let data = try TemplateRenderer.render(source.data ?? [:], variables: environment)
                    let configMapName = names.templateConfigMap(component.name, spec: spec.name)
                    renderedTemplates[configMapName] = data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
                    objects.append(
                        try DesiredObject(
                            CoreV1.ConfigMap(
                                data: data, metadata: meta(configMapName, names, labels: labels, owner: owner))))
                } catch let failure as TemplateRenderer.Failure {
                    problems.append(
                        FieldError(
                            field: field, message: "Invalid value: ConfigMap \"\(ClusterBuildInput.templateKey(spec))\" \(failure)",
                            fix: "correct the template's Mustache tags"))
                }
            }
        }
        guard problems.isEmpty else { throw ClusterBuildError(problems: problems) }

        objects += try services(component: component, componentDef: componentDef, names: names, labels: labels, owner: owner)

        let componentVersion = input.version.spec.componentVersions.first { $0.componentDefRef == componentDef.name }
        var podSpec = PodTemplateBuilder.podSpec(
            cluster: input.cluster, component: component, componentDef: componentDef, version: componentVersion, names: names)
        // The restore's init container is PostgreSQL's container without the archive's settings and keys.
        let backupAccount = BackupServiceAccount.name(cluster: names.cluster)
        restore?.apply(to: &podSpec, serviceAccount: backupAccount)
        let archiving = WALArchiving(cluster: input.cluster, uploaderImage: input.backupImage)
        if let problem = restore?.archiveProblem(archiving) { throw ClusterBuildError(problems: [problem]) }
        archiving?.apply(to: &podSpec, serviceAccount: backupAccount)
        if let problem = backupRoleProblem(input.cluster, component: component, restore: restore, archiving: archiving) {
            throw ClusterBuildError(problems: [problem])
        }
        // A primary started before the restore's checks passed would initdb and never restore.
        if restore?.stage == .checking { return objects }
        let selector = MetaV1.LabelSelector(matchLabels: names.componentSelector(component.name))
        // Pods restart when their rendered configuration changes, not when the replica count does.
        var podAnnotations: [String: String] = [:]
        if let restarted = input.cluster.metadata?.annotations?[restartAnnotationPrefix + component.name] {
            podAnnotations[podRestartAnnotation] = restarted
        }
        if !renderedTemplates.isEmpty {
            let text = renderedTemplates.sorted { $0.key < $1.key }.map { "\($0.key)\n\($0.value)" }.joined(separator: "\n")
            podAnnotations[configHashAnnotation] = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16).description
        }
        if component.monitor == true, let port = componentDef.scrapePort {
            // Prometheus's own discovery convention, which its Kubernetes scrape configs and most operators read.
            podAnnotations["prometheus.io/scrape"] = "true"
            podAnnotations["prometheus.io/port"] = "\(port)"
            podAnnotations["prometheus.io/path"] = componentDef.monitor?.exporterConfig?.scrapePath ?? "/metrics"
        }
        let template = CoreV1.PodTemplateSpec(
            metadata: MetaV1.ObjectMeta(annotations: podAnnotations.isEmpty ? nil : podAnnotations, labels: labels),
            spec: podSpec)

        if componentDef.workloadType == .stateless {
            var spec = AppsV1.DeploymentSpec(selector: selector, template: template)
            spec.replicas = replicas
            objects.append(
                try DesiredObject(
                    AppsV1.Deployment(
                        metadata: meta(names.workload(component.name), names, labels: labels, owner: owner), spec: spec)))
        } else {
            podSpec.subdomain = nil
            var spec = AppsV1.StatefulSetSpec(selector: selector, template: template)
            spec.replicas = replicas
            spec.serviceName = names.headlessService(component.name)
            // Consensus peers find each other only when they start together; a new Qdrant or Postgres peer must
            // find the earlier ones running (a pod 0 that waits for peers, then founds the cluster alone).
            spec.podManagementPolicy = componentDef.workloadType == .consensus ? "Parallel" : "OrderedReady"
            spec.updateStrategy = AppsV1.StatefulSetUpdateStrategy(type: "RollingUpdate")
            let claims = (component.volumeClaimTemplates ?? []).map { claim in
                CoreV1.PersistentVolumeClaim(
                    metadata: MetaV1.ObjectMeta(labels: labels, name: claim.name), spec: claim.spec)
            }
            spec.volumeClaimTemplates = claims.isEmpty ? nil : claims
            objects.append(
                try DesiredObject(
                    AppsV1.StatefulSet(
                        metadata: meta(names.workload(component.name), names, labels: labels, owner: owner), spec: spec)))
        }

        if replicas > 1 {
            let minimum: IntOrString = componentDef.workloadType == .consensus ? .string("51%") : .int(1)
            objects.append(
                try DesiredObject(
                    PolicyV1.PodDisruptionBudget(
                        metadata: meta(names.podDisruptionBudget(component.name), names, labels: labels, owner: owner),
                        spec: PolicyV1.PodDisruptionBudgetSpec(minAvailable: minimum, selector: selector))))
        }
        return objects
    }

    public static let configHashAnnotation = "\(VectorBlocksAPI.group)/config-hash"
    /// `<prefix><component>` on the Cluster (set by a Restart OpsRequest) becomes the pod template's
    /// `podRestartAnnotation`: a new value rolls the pods.
    public static let restartAnnotationPrefix = "\(VectorBlocksAPI.group)/restarted-at."
    public static let podRestartAnnotation = "\(VectorBlocksAPI.group)/restarted-at"

    /// The env ConfigMap's `VB_*` variables (DESIGN §2); with KubeBlocks' entries, also what templates render with.
    public static func environmentVariables(names: ClusterNames, component: String, replicas: Int32) -> [String: String] {
        var variables = [
            "VB_CLUSTER_NAME": names.cluster,
            "VB_COMP_NAME": component,
            "VB_NAMESPACE": names.namespace,
            "VB_REPLICA_COUNT": String(replicas),
        ]
        let prefix = "VB_\(ClusterNames.environmentName(component))"
        for ordinal in 0..<Int(max(replicas, 0)) {
            variables["\(prefix)_\(ordinal)_HOSTNAME"] = names.pod(component, ordinal: ordinal)
        }
        return variables
    }

    static func services(
        component: ClusterComponentSpec, componentDef: ClusterComponentDefinition, names: ClusterNames,
        labels: [String: String], owner: MetaV1.OwnerReference
    ) throws -> [DesiredObject] {
        var objects: [DesiredObject] = []
        let podSelector = names.componentSelector(component.name)
        let containerPorts = (componentDef.podSpec?.containers ?? []).flatMap { $0.ports ?? [] }
        var headless = CoreV1.ServiceSpec()
        headless.clusterIP = "None"
        // Peers must find each other before they are ready (Raft joins, a standby cloning the primary).
        headless.publishNotReadyAddresses = true
        headless.selector = podSelector
        headless.ports = containerPorts.map { port in
            CoreV1.ServicePort(
                name: port.name, port: port.containerPort, protocol: port.protocol ?? "TCP",
                targetPort: port.name.map(IntOrString.string) ?? .int(port.containerPort))
        }
        objects.append(
            try DesiredObject(
                CoreV1.Service(
                    metadata: meta(names.headlessService(component.name), names, labels: labels, owner: owner), spec: headless)))

        let ports = componentDef.service?.ports ?? []
        guard !ports.isEmpty else { return objects }
        let replication = componentDef.workloadType == .replication
        var primary = podSelector
        if replication { primary[ClusterNames.roleLabel] = "primary" }

        func service(_ name: String, selector: [String: String], type: String, annotations: [String: String]?) throws -> DesiredObject {
            var spec = CoreV1.ServiceSpec()
            spec.type = type
            spec.selector = selector
            spec.ports = ports
            var metadata = meta(name, names, labels: labels, owner: owner)
            metadata.annotations = annotations?.isEmpty == false ? annotations : nil
            return try DesiredObject(CoreV1.Service(metadata: metadata, spec: spec))
        }
        objects.append(try service(names.service(component.name), selector: primary, type: "ClusterIP", annotations: nil))
        if replication {
            var secondaries = podSelector
            secondaries[ClusterNames.roleLabel] = "secondary"
            objects.append(try service(names.readOnlyService(component.name), selector: secondaries, type: "ClusterIP", annotations: nil))
        }
        for extra in component.services ?? [] {
            objects.append(
                try service(
                    names.extraService(component.name, extra.name), selector: primary,
                    type: (extra.serviceType ?? .clusterIP).rawValue, annotations: extra.annotations))
        }
        return objects
    }

    /// The IAM role the Cluster's pods assume for its backups (its own archive's first, else its restore's), which its
    /// backup ServiceAccount is annotated with; nil when neither names one.
    static func backupRoleArn(_ input: ClusterBuildInput, definitionType: String) -> String? {
        let archiving = WALArchiving(cluster: input.cluster, uploaderImage: input.backupImage)
        let restore = PgBasebackupRestore(cluster: input.cluster, definitionType: definitionType, uploaderImage: input.backupImage)
        return archiving?.credentials.roleArn ?? restore?.source.flatMap { BackupPodCredentials($0.repository)?.roleArn }
    }

    /// A component that names its own ServiceAccount cannot also run under the backup one that IRSA trusts the role to.
    static func backupRoleProblem(
        _ cluster: Cluster, component: ClusterComponentSpec, restore: PgBasebackupRestore?, archiving: WALArchiving?
    ) -> FieldError? {
        let usesRole = archiving?.credentials.roleArn != nil || restore?.source.flatMap { BackupPodCredentials($0.repository)?.roleArn } != nil
        guard usesRole, let account = component.serviceAccountName,
            let index = cluster.spec.componentSpecs.firstIndex(where: { $0.name == component.name })
        else { return nil }
        return FieldError(
            field: "spec.componentSpecs[\(index)].serviceAccountName",
            message:
                "Forbidden: \"\(account)\" and spec.backup.repository.roleArn (or the restored Backup's) both set the pods' ServiceAccount; with an IAM role they run under \(BackupServiceAccount.name(cluster: cluster.metadata?.name ?? "")), which the role trusts",
            fix: "remove serviceAccountName, or use credentialsSecretName instead of roleArn")
    }

    static func meta(
        _ name: String, _ names: ClusterNames, labels: [String: String], owner: MetaV1.OwnerReference
    ) -> MetaV1.ObjectMeta {
        MetaV1.ObjectMeta(labels: labels, name: name, namespace: names.namespace, ownerReferences: [owner])
    }
}
