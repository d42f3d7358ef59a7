import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// Passwords and UUIDs that are the same in every run, so the built objects can be compared with golden files.
struct FixedSecretGenerator: SecretGenerator {
    var value = "Fixed0Password0For0Golden0Files"
    func password() -> String { value }
    func uuid() -> String { "00000000-0000-4000-8000-000000000000" }
}

/// Builds the desired objects of an example Cluster from the shipped addon, as the reconciler would.
func buildExample(
    _ example: String, addon: Addon, uid: String = "cluster-uid-1", edit: (inout Cluster) -> Void = { _ in }
) throws -> (input: ClusterBuildInput, objects: [DesiredObject]) {
    var cluster = try decodeYAML("examples/\(example)", as: Cluster.self)
    cluster.metadata?.uid = uid
    let namespace = cluster.metadata?.namespace ?? "default"
    cluster.metadata?.namespace = namespace
    edit(&cluster)
    cluster = cluster.withDefaults()
    let objects = try addon.objects()
    let names = ClusterNames(cluster: cluster.metadata?.name ?? "", namespace: cluster.metadata?.namespace ?? "")
    let credential = ConnectionCredential.values(
        cluster: cluster, definition: objects.definition, names: names, existing: [:], generator: FixedSecretGenerator())
    var templates: [String: CoreV1.ConfigMap] = [:]
    for configMap in objects.configMaps {
        templates["\(configMap.metadata?.namespace ?? "")/\(configMap.metadata?.name ?? "")"] = configMap
    }
    let input = ClusterBuildInput(
        cluster: cluster, definition: objects.definition.withDefaults(), version: objects.version, credential: credential,
        templates: templates)
    return (input, try ClusterObjectsBuilder.objects(input))
}

func object(_ objects: [DesiredObject], _ key: String) throws -> JSONValue {
    try #require(objects.first { $0.description == key }, "no \(key) among \(objects.map(\.description))").body
}

@Suite("Cluster objects builder (pure)")
struct ClusterObjectsBuilderTests {
    /// The whole output against a committed file; VB_UPDATE_GOLDEN=1 rewrites the files after a deliberate change.
    @Test(
        "the objects of the examples match their golden files",
        arguments: [
            ("qdrant-cluster.yaml", "qdrant"), ("pgvector-cluster.yaml", "pgvector"),
        ])
    func golden(example: String, addonName: String) throws {
        let addon = addonName == "qdrant" ? Addon.qdrant : Addon.pgvector
        let (_, objects) = try buildExample(example, addon: addon)
        let rendered = try ManifestYAML.render(objects.map(\.body), header: "Golden: the objects the operator builds for examples/\(example).")
        try expectGolden(rendered, "Tests/VectorBlocksOperatorTests/Golden/\(addonName)-cluster.yaml")
    }

    @Test func qdrantHasEveryObjectOfTheDesignWithItsNames() throws {
        let (_, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        let cluster = try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self)
        let name = try #require(cluster.metadata?.name)
        let component = try #require(cluster.spec.componentSpecs.first?.name)
        let keys = Set(objects.map(\.description))
        for expected in [
            "Secret/\(name)-conn-credential", "ConfigMap/\(name)-\(component)-env",
            "ConfigMap/\(name)-\(component)-qdrant-config", "ConfigMap/\(name)-\(component)-qdrant-scripts",
            "StatefulSet/\(name)-\(component)", "Service/\(name)-\(component)-headless", "Service/\(name)-\(component)",
            "PodDisruptionBudget/\(name)-\(component)",
        ] {
            #expect(keys.contains(expected), "missing \(expected) in \(keys.sorted())")
        }
        for object in objects {
            let metadata = object.body["metadata"]
            #expect(metadata?["labels"]?["app.kubernetes.io/managed-by"] == "vectorblocks", "\(object)")
            #expect(metadata?["labels"]?["app.kubernetes.io/instance"] == .string(name), "\(object)")
            #expect(metadata?["labels"]?["app.kubernetes.io/name"] == "qdrant", "\(object)")
            let owner = metadata?["ownerReferences"]?.arrayValue?.first
            #expect(owner?["kind"] == "Cluster" && owner?["uid"] == "cluster-uid-1" && owner?["controller"] == true, "\(object)")
        }
    }

    @Test func qdrantStatefulSetCarriesTheDefinitionImagesEnvAndVolumes() throws {
        let (input, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        let name = input.cluster.metadata?.name ?? ""
        let component = input.cluster.spec.componentSpecs[0]
        let statefulSet = try object(objects, "StatefulSet/\(name)-\(component.name)").decode(as: AppsV1.StatefulSet.self)
        let spec = try #require(statefulSet.spec)
        #expect(spec.replicas == component.replicas)
        #expect(spec.serviceName == "\(name)-\(component.name)-headless")
        #expect(spec.podManagementPolicy == "OrderedReady")
        let pod = try #require(spec.template.spec)
        let qdrant = try #require(pod.containers.first { $0.name == "qdrant" })
        #expect(qdrant.image == "docker.io/qdrant/qdrant:v1.12.5")
        #expect(qdrant.resources == component.resources)
        #expect(qdrant.envFrom?.first?.configMapRef?.name == "\(name)-\(component.name)-env")
        let apiKey = try #require(qdrant.env?.first { $0.name == "QDRANT__SERVICE__API_KEY" })
        #expect(apiKey.valueFrom?.secretKeyRef?.name == "\(name)-conn-credential")
        #expect(apiKey.valueFrom?.secretKeyRef?.key == "apiKey")
        // Every probe and hook of the definition's podSpec survives.
        #expect(qdrant.readinessProbe?.httpGet?.path == "/readyz")
        #expect(qdrant.livenessProbe?.httpGet?.path == "/livez")
        #expect(qdrant.startupProbe != nil)
        #expect(pod.initContainers?.first?.image == "docker.io/curlimages/curl:8.11.1")
        let volumes = Dictionary(uniqueKeysWithValues: (pod.volumes ?? []).map { ($0.name, $0) })
        #expect(volumes["qdrant-config"]?.configMap?.name == "\(name)-\(component.name)-qdrant-config")
        #expect(volumes["scripts"]?.configMap?.name == "\(name)-\(component.name)-qdrant-scripts")
        #expect(volumes["scripts"]?.configMap?.defaultMode == 0o555)
        #expect(spec.volumeClaimTemplates?.map { $0.metadata?.name } == component.volumeClaimTemplates?.map(\.name))
        #expect(spec.template.metadata?.annotations?[ClusterObjectsBuilder.configHashAnnotation]?.count == 16)
    }

    @Test func monitorAnnotatesThePodsWithTheEnginesMetricsEndpoint() throws {
        let (input, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant) { $0.spec.componentSpecs[0].monitor = true }
        let name = input.cluster.metadata?.name ?? ""
        let statefulSet = try object(objects, "StatefulSet/\(name)-qdrant").decode(as: AppsV1.StatefulSet.self)
        let annotations = statefulSet.spec?.template.metadata?.annotations ?? [:]
        #expect(annotations["prometheus.io/scrape"] == "true")
        #expect(annotations["prometheus.io/port"] == "6333")
        #expect(annotations["prometheus.io/path"] == "/metrics")

        let (_, unmonitored) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        let plain = try object(unmonitored, "StatefulSet/\(name)-qdrant").decode(as: AppsV1.StatefulSet.self)
        #expect(plain.spec?.template.metadata?.annotations?["prometheus.io/scrape"] == nil)
    }

    @Test func monitorIsRefusedForAnEngineWithNoMetricsEndpoint() throws {
        var cluster = try decodeYAML("examples/pgvector-cluster.yaml", as: Cluster.self)
        cluster.spec.componentSpecs[0].monitor = true
        let definition = try Addon.pgvector.objects().definition
        let errors = cluster.validate(definition: definition)
        #expect(errors.map(\.field) == ["spec.componentSpecs[0].monitor"])
        #expect(errors.first?.description.contains("monitor: false") == true)

        var exporting = definition
        exporting.spec.componentDefs[0].monitor = MonitorConfig(builtIn: true, exporterConfig: .init(scrapePort: .string("nope")))
        #expect(
            exporting.validate().map(\.field).sorted() == [
                "spec.componentDefs[0].monitor.builtIn", "spec.componentDefs[0].monitor.exporterConfig.scrapePort",
            ])
    }

    @Test func servicesSelectTheComponentAndHeadlessPublishesNotReadyPeers() throws {
        let (input, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        let base = "\(input.cluster.metadata?.name ?? "")-\(input.cluster.spec.componentSpecs[0].name)"
        let headless = try object(objects, "Service/\(base)-headless").decode(as: CoreV1.Service.self)
        #expect(headless.spec?.clusterIP == "None")
        #expect(headless.spec?.publishNotReadyAddresses == true)
        #expect(Set(headless.spec?.ports?.map(\.port) ?? []) == [6333, 6334, 6335])
        let main = try object(objects, "Service/\(base)").decode(as: CoreV1.Service.self)
        // Raft's port is never exposed.
        #expect(Set(main.spec?.ports?.map(\.port) ?? []) == [6333, 6334])
        #expect(main.spec?.selector?["apps.vectorblocks.io/component-name"] == input.cluster.spec.componentSpecs[0].name)
        let pdb = try object(objects, "PodDisruptionBudget/\(base)").decode(as: PolicyV1.PodDisruptionBudget.self)
        #expect(pdb.spec?.minAvailable == .int(1))
    }

    @Test func replicationSelectsThePrimaryAndReadOnlyTheSecondaries() throws {
        let (input, objects) = try buildExample("pgvector-cluster.yaml", addon: .pgvector)
        let base = "\(input.cluster.metadata?.name ?? "")-\(input.cluster.spec.componentSpecs[0].name)"
        let main = try object(objects, "Service/\(base)").decode(as: CoreV1.Service.self)
        #expect(main.spec?.selector?["apps.vectorblocks.io/role"] == "primary")
        let readOnly = try object(objects, "Service/\(base)-ro").decode(as: CoreV1.Service.self)
        #expect(readOnly.spec?.selector?["apps.vectorblocks.io/role"] == "secondary")
        let credential = try object(objects, "Secret/\(input.cluster.metadata?.name ?? "")-conn-credential")
        let decoded = try #require(credential["data"]?.objectValue).mapValues {
            String(decoding: Data(base64Encoded: $0.stringValue ?? "") ?? Data(), as: UTF8.self)
        }
        #expect(decoded["username"] == "postgres")
        #expect(decoded["host"] == "\(base).default.svc")
        #expect(decoded["port"] == "5432")
        #expect(decoded["password"] == FixedSecretGenerator().value)
    }

    @Test func singleReplicaHasNoDisruptionBudgetAndConsensusKeepsAMajority() throws {
        let (_, single) = try buildExample("qdrant-cluster.yaml", addon: .qdrant) { $0.spec.componentSpecs[0].replicas = 1 }
        #expect(!single.contains { $0.resource.kind == "PodDisruptionBudget" })
        var definition = try Addon.qdrant.objects().definition
        definition.spec.componentDefs[0].workloadType = .consensus
        var (input, _) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        input.definition = definition
        let objects = try ClusterObjectsBuilder.objects(input)
        let pdb = try objects.first { $0.resource.kind == "PodDisruptionBudget" }.map { try $0.body.decode(as: PolicyV1.PodDisruptionBudget.self) }
        #expect(pdb?.spec?.minAvailable == .string("51%"))
        let statefulSet = try #require(objects.first { $0.resource.kind == "StatefulSet" }).body
        #expect(statefulSet["spec"]?["podManagementPolicy"] == "Parallel")
    }

    @Test func environmentNamesEveryReplicaAndExposeAddsLoadBalancers() throws {
        let (input, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant) { cluster in
            cluster.spec.componentSpecs[0].replicas = 3
            cluster.spec.componentSpecs[0].services = [
                ClusterComponentService(
                    name: "vpc", serviceType: .loadBalancer,
                    annotations: ["service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"])
            ]
        }
        let name = input.cluster.metadata?.name ?? ""
        let component = input.cluster.spec.componentSpecs[0].name
        let environment = try object(objects, "ConfigMap/\(name)-\(component)-env").decode(as: CoreV1.ConfigMap.self)
        let upper = component.uppercased().replacingOccurrences(of: "-", with: "_")
        #expect(environment.data?["VB_REPLICA_COUNT"] == "3")
        #expect(environment.data?["VB_CLUSTER_NAME"] == name)
        #expect(environment.data?["VB_\(upper)_2_HOSTNAME"] == "\(name)-\(component)-2")
        #expect(environment.data?["VB_\(upper)_3_HOSTNAME"] == nil)
        let exposed = try object(objects, "Service/\(name)-\(component)-vpc").decode(as: CoreV1.Service.self)
        #expect(exposed.spec?.type == "LoadBalancer")
        #expect(exposed.metadata?.annotations?["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal")
    }

    @Test func schedulingShorthandBecomesAffinityAndTolerations() throws {
        let (_, objects) = try buildExample("qdrant-cluster.yaml", addon: .qdrant) { cluster in
            cluster.spec.affinity = Affinity(
                podAntiAffinity: .required, topologyKeys: ["topology.kubernetes.io/zone"],
                nodeLabels: ["node.kubernetes.io/instance-type": "r6i.xlarge"], tenancy: .dedicatedNode)
            cluster.spec.tolerations = [CoreV1.Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "vector")]
        }
        let statefulSet = try #require(objects.first { $0.resource.kind == "StatefulSet" }).body.decode(as: AppsV1.StatefulSet.self)
        let pod = try #require(statefulSet.spec?.template.spec)
        let required = pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
        #expect(required.map(\.topologyKey) == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"])
        let nodeTerm = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.first
        #expect(nodeTerm?.matchExpressions?.first?.key == "node.kubernetes.io/instance-type")
        #expect(pod.tolerations?.contains { $0.key == "dedicated" } == true)
    }

    @Test func aMissingTemplateOrComponentNamesTheFieldAndTheFix() throws {
        var (input, _) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        input.templates = [:]
        let missingTemplate = buildFailure(input)
        #expect(missingTemplate.contains("configSpecs[0].templateRef"), "\(missingTemplate)")
        #expect(missingTemplate.contains("Not found") && missingTemplate.contains("kubectl apply"), "\(missingTemplate)")
        input.cluster.spec.componentSpecs[0].componentDefRef = "qdrnt"
        let unknownComponent = buildFailure(input)
        #expect(unknownComponent.contains("spec.componentSpecs[0].componentDefRef"), "\(unknownComponent)")
        #expect(unknownComponent.contains("use one of: qdrant"), "\(unknownComponent)")
    }

    private func buildFailure(_ input: ClusterBuildInput) -> String {
        do {
            let objects = try ClusterObjectsBuilder.objects(input)
            return "built \(objects.count) objects"
        } catch {
            return "\(error)"
        }
    }

    @Test func theCredentialIsKeptAndOnlyMissingKeysAreFilled() throws {
        let (input, _) = try buildExample("qdrant-cluster.yaml", addon: .qdrant)
        let names = ClusterNames(cluster: "c", namespace: "n")
        let first = ConnectionCredential.values(
            cluster: input.cluster, definition: input.definition, names: names, existing: [:], generator: SystemSecretGenerator())
        let password = try #require(first["password"])
        #expect(password.count >= 24)
        #expect(first["apiKey"] == password, "Qdrant's API key is the cluster's one random secret")
        let again = ConnectionCredential.values(
            cluster: input.cluster, definition: input.definition, names: names, existing: first, generator: SystemSecretGenerator())
        #expect(again == first)
        var partial = first
        partial["apiKey"] = nil
        let refilled = ConnectionCredential.values(
            cluster: input.cluster, definition: input.definition, names: names, existing: partial, generator: SystemSecretGenerator())
        #expect(refilled["apiKey"] == password)
        #expect(SystemSecretGenerator().password() != SystemSecretGenerator().password())
    }

    @Test func templatesRenderTheComponentVariablesUnescaped() throws {
        let rendered = try TemplateRenderer.render(
            ["peers.conf": "cluster={{VB_CLUSTER_NAME}} replicas={{VB_REPLICA_COUNT}} <&>", "plain.sh": "echo ${A} {not a tag}"],
            variables: ["VB_CLUSTER_NAME": "a&b", "VB_REPLICA_COUNT": "3"])
        #expect(rendered["peers.conf"] == "cluster=a&b replicas=3 <&>")
        #expect(rendered["plain.sh"] == "echo ${A} {not a tag}")
        #expect(throws: TemplateRenderer.Failure.self) { try TemplateRenderer.render(["x": "{{#open}}"], variables: [:]) }
    }

    @Test("the built objects pass kubernetes-validate --strict")
    func upstreamSchemas() async throws {
        let directory = try TemporaryDirectory()
        var paths: [String] = []
        for (example, addon) in [("qdrant-cluster.yaml", Addon.qdrant), ("pgvector-cluster.yaml", Addon.pgvector)] {
            let (_, objects) = try buildExample(example, addon: addon)
            let file = URL(fileURLWithPath: directory.path).appendingPathComponent(example)
            try ManifestYAML.render(objects.map(\.body), header: "built").write(to: file, atomically: true, encoding: .utf8)
            paths.append(file.path)
        }
        // A pgvector Cluster restoring from a pg-basebackup Backup (its restore init container), archiving its own WAL.
        let restoring = try PgBasebackupRestoreTests.build(state: RestoreReconciler.started) {
            var archive = PgBasebackupRestoreTests.repository
            archive.prefix = "restored"
            $0.spec.backup = ClusterBackup(method: .pgBasebackup, cronExpression: "0 3 * * *", repository: archive, pitrEnabled: true)
        }
        let file = URL(fileURLWithPath: directory.path).appendingPathComponent("pgvector-restoring.yaml")
        try ManifestYAML.render(restoring.map(\.body), header: "built").write(to: file, atomically: true, encoding: .utf8)
        paths.append(file.path)
        let result = try await run(try TestVenv.program("kubernetes-validate"), ["--strict"] + paths)
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("ERROR"), "\(result.output)")
    }
}
