import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

/// One permission: a verb on a resource of an API group.
private struct Grant: Hashable, CustomStringConvertible {
    var group: String
    var resource: String
    var verb: String

    var description: String { "\(group.isEmpty ? "core" : group) \(resource) \(verb)" }
}

private func grants(_ group: String, _ resources: [String], _ verbs: [String]) -> Set<Grant> {
    Set(resources.flatMap { resource in verbs.map { Grant(group: group, resource: resource, verb: $0) } })
}

private func grants(of rules: [JSONValue]) -> Set<Grant> {
    var all: Set<Grant> = []
    for rule in rules {
        let groups = rule["apiGroups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let resources = rule["resources"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let verbs = rule["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for group in groups { all.formUnion(grants(group, resources, verbs)) }
    }
    return all
}

/// What the operator talks to, written out apart from the source that grants it.
private let expectedClusterGrants: Set<Grant> = {
    let kinds = ["clusters", "clusterdefinitions", "clusterversions", "opsrequests", "vectorpipelines"]
    let owned = ["get", "list", "watch", "create", "update", "patch", "delete"]
    return grants("apps.vectorblocks.io", kinds, ["get", "list", "watch", "update", "patch"])
        .union(grants("apps.vectorblocks.io", kinds.map { "\($0)/status" }, ["get", "update", "patch"]))
        .union(
            grants("apps.vectorblocks.io", ["clusters/finalizers", "opsrequests/finalizers", "vectorpipelines/finalizers", "backups/finalizers"], ["update"])
        )
        // Backups are made by the schedule, removed by retention and WipeOut, and run by the operator.
        .union(grants("apps.vectorblocks.io", ["backups"], owned))
        .union(grants("apps.vectorblocks.io", ["backups/status"], ["get", "update", "patch"]))
        .union(grants("", ["secrets", "configmaps", "services", "persistentvolumeclaims"], owned))
        // Each VectorPipeline's workers run as a ServiceAccount of their own.
        .union(grants("", ["serviceaccounts"], owned))
        .union(grants("", ["pods"], ["get", "list", "watch", "patch", "delete"]))
        .union(grants("", ["events"], ["create", "patch"]))
        .union(grants("", ["endpoints"], ["get", "list", "watch"]))
        .union(grants("apps", ["statefulsets", "deployments"], owned))
        .union(grants("policy", ["poddisruptionbudgets"], owned))
        .union(grants("autoscaling", ["horizontalpodautoscalers"], owned))
        .union(grants("events.k8s.io", ["events"], ["create", "patch"]))
        // pgvector backups run as Jobs.
        .union(grants("batch", ["jobs"], ["get", "list", "watch", "create", "delete"]))
}()

@Suite("The operator's manifests: RBAC, Deployment, Service, PodDisruptionBudget")
struct OperatorPackageTests {
    let documents: [JSONValue]

    init() throws {
        documents = try yamlDocuments("deploy/operator.yaml")
    }

    func object(_ kind: String) throws -> JSONValue {
        try #require(documents.first { $0["kind"]?.stringValue == kind }, "deploy/operator.yaml has no \(kind)")
    }

    @Test("the objects, in an order kubectl can apply in one go")
    func objectsInOrder() throws {
        let kinds = documents.map { "\($0["kind"]?.stringValue ?? "")/\($0["metadata"]?["name"]?.stringValue ?? "")" }
        #expect(
            kinds == [
                "Namespace/vectorblocks-system", "ServiceAccount/vectorblocks-operator", "ClusterRole/vectorblocks-operator",
                "ClusterRoleBinding/vectorblocks-operator", "Role/vectorblocks-operator-leader-election",
                "RoleBinding/vectorblocks-operator-leader-election", "Service/vectorblocks-operator-metrics",
                "Deployment/vectorblocks-operator", "PodDisruptionBudget/vectorblocks-operator",
            ])
        for document in documents where !["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(document["kind"]?.stringValue) {
            #expect(document["metadata"]?["namespace"] == "vectorblocks-system", "\(document["kind"] ?? nil)")
        }
    }

    @Test("no wildcard anywhere in the RBAC rules")
    func noWildcards() throws {
        for kind in ["ClusterRole", "Role"] {
            for rule in try #require(try object(kind)["rules"]?.arrayValue) {
                for field in ["verbs", "resources", "apiGroups"] {
                    let values = try #require(rule[field]?.arrayValue, "\(kind) rule without \(field)")
                    #expect(!values.isEmpty)
                    #expect(!values.contains { $0.stringValue?.contains("*") ?? true }, "\(kind) \(field): \(values)")
                }
                #expect(rule["resourceNames"] == nil && rule["nonResourceURLs"] == nil)
            }
        }
    }

    @Test("the ClusterRole grants exactly what the operator talks to, and the Role only the Lease")
    func exactGrants() throws {
        let cluster = grants(of: try #require(try object("ClusterRole")["rules"]?.arrayValue))
        #expect(
            cluster.subtracting(expectedClusterGrants).isEmpty,
            "granted but not used: \(cluster.subtracting(expectedClusterGrants).sorted { "\($0)" < "\($1)" })")
        #expect(
            expectedClusterGrants.subtracting(cluster).isEmpty,
            "used but not granted: \(expectedClusterGrants.subtracting(cluster).sorted { "\($0)" < "\($1)" })")
        #expect(!cluster.contains { $0.resource == "leases" }, "leases are granted only in the operator's namespace")

        let role = grants(of: try #require(try object("Role")["rules"]?.arrayValue))
        #expect(role == grants("coordination.k8s.io", ["leases"], ["get", "list", "watch", "create", "update", "patch"]))
    }

    @Test("the bindings give the roles to the operator's service account")
    func bindings() throws {
        let subject: JSONValue = [["kind": "ServiceAccount", "name": "vectorblocks-operator", "namespace": "vectorblocks-system"]]
        let clusterBinding = try object("ClusterRoleBinding")
        #expect(clusterBinding["subjects"] == subject)
        #expect(clusterBinding["roleRef"] == ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "vectorblocks-operator"])
        let binding = try object("RoleBinding")
        #expect(binding["subjects"] == subject)
        #expect(binding["roleRef"] == ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "vectorblocks-operator-leader-election"])
        #expect(try object("Deployment").value(at: ["spec", "template", "spec", "serviceAccountName"]) == "vectorblocks-operator")
    }

    @Test("the Deployment: image, replicas, leader election, probes, ports, resources, anti-affinity")
    func deployment() throws {
        let deployment = try object("Deployment").decode(as: AppsV1.Deployment.self)
        let spec = try #require(deployment.spec)
        #expect(spec.replicas == 2)
        let pod = try #require(spec.template.spec)
        let container = try #require(pod.containers.first)
        #expect(pod.containers.count == 1)
        #expect(container.image == "docker.io/vectorblocks/vectorblocks-operator:\(OperatorPackage.version)")
        let args = container.args ?? []
        #expect(args.starts(with: ["--log-format", "json"]))
        #expect(args.contains("--leader-elect"))
        #expect(args.firstIndex(of: "--leader-election-namespace").map { args[$0 + 1] } == "$(POD_NAMESPACE)")
        let podNamespace = container.env?.first { $0.name == "POD_NAMESPACE" }
        #expect(podNamespace?.valueFrom?.fieldRef?.fieldPath == "metadata.namespace")
        #expect(container.ports?.map { "\($0.name ?? "")=\($0.containerPort)" } == ["metrics=8080", "health=8081"])
        #expect(container.livenessProbe?.httpGet?.path == "/healthz")
        #expect(container.livenessProbe?.httpGet?.port == .string("health"))
        #expect(container.readinessProbe?.httpGet?.path == "/readyz")
        #expect(container.readinessProbe?.httpGet?.port == .string("health"))
        #expect(container.resources?.requests == ["cpu": "100m", "memory": "128Mi"])
        #expect(container.resources?.limits == ["cpu": "500m", "memory": "256Mi"])

        let terms = try #require(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution)
        #expect(terms.first?.podAffinityTerm.topologyKey == "kubernetes.io/hostname")
        #expect(terms.first?.podAffinityTerm.labelSelector?.matchLabels == spec.selector.matchLabels)
        #expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution == nil, "one node must still run both")
        #expect(pod.topologySpreadConstraints == nil)
        let selector = try #require(spec.selector.matchLabels)
        #expect(selector.allSatisfy { spec.template.metadata?.labels?[$0.key] == $0.value }, "the selector matches the pods")
    }

    @Test("non-root, read-only, no privilege escalation, no capabilities, RuntimeDefault seccomp")
    func restricted() throws {
        let pod = try #require(try object("Deployment").decode(as: AppsV1.Deployment.self).spec?.template.spec)
        #expect(pod.securityContext?.runAsNonRoot == true)
        #expect(pod.securityContext?.runAsUser == 65532)
        #expect(pod.securityContext?.seccompProfile?.type == "RuntimeDefault")
        let security = try #require(pod.containers.first?.securityContext)
        #expect(security.runAsNonRoot == true)
        #expect(security.runAsUser == 65532)
        #expect(security.readOnlyRootFilesystem == true)
        #expect(security.allowPrivilegeEscalation == false)
        #expect(security.capabilities?.drop == ["ALL"])
        #expect(security.capabilities?.add == nil)
        #expect(security.privileged == nil)
        #expect(security.seccompProfile?.type == "RuntimeDefault")
    }

    @Test("the metrics Service and the PodDisruptionBudget select the operator's pods")
    func serviceAndBudget() throws {
        let labels = try #require(try object("Deployment").value(at: ["spec", "template", "metadata", "labels"])?.objectValue)
        let service = try object("Service").decode(as: CoreV1.Service.self)
        #expect(service.spec?.ports?.map { "\($0.name ?? "")=\($0.port)" } == ["metrics=8080"])
        #expect(service.spec?.ports?.first?.targetPort == .string("metrics"))
        #expect(try #require(service.spec?.selector).allSatisfy { labels[$0.key] == .string($0.value) })
        let budget = try object("PodDisruptionBudget").decode(as: PolicyV1.PodDisruptionBudget.self)
        #expect(budget.spec?.minAvailable == 1)
        #expect(try #require(budget.spec?.selector?.matchLabels).allSatisfy { labels[$0.key] == .string($0.value) })
    }

    @Test("settings change the plain manifests; one replica gets no PodDisruptionBudget, which would block drains")
    func settings() throws {
        var settings = OperatorSettings()
        settings.replicas = 1
        settings.watchNamespaces = ["search", "databases"]
        settings.leaderElection = false
        let manifests = try OperatorPackage(settings: settings).manifests(namespace: "ops")
        #expect(!manifests.contains { $0["kind"] == "PodDisruptionBudget" })
        let deployment = try #require(manifests.first { $0["kind"] == "Deployment" }).decode(as: AppsV1.Deployment.self)
        let container = try #require(deployment.spec?.template.spec?.containers.first)
        #expect(container.args?.contains("--no-leader-elect") == true)
        #expect(container.env?.first { $0.name == "VB_WATCH_NAMESPACES" }?.value == "search,databases")
        #expect(deployment.metadata?.namespace == "ops")
        let binding = try #require(manifests.first { $0["kind"] == "ClusterRoleBinding" })
        #expect(binding["subjects"]?.arrayValue?.first?["namespace"] == "ops")
    }
}
