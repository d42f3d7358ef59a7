import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@Suite("KubeBlocks compatibility and defaults")
struct KubeBlocksCompatibilityTests {
    @Test("a KubeBlocks manifest decodes with only its apiVersion changed, and validates")
    func kubeBlocksManifestDecodes() throws {
        let documents = try fixture("kubeblocks-qdrant-clusterdefinition")
        #expect(documents.count == 4)
        let definition = try documents[0].decode(as: ClusterDefinition.self)
        let version = try documents[1].decode(as: ClusterVersion.self)
        let cluster = try documents[2].decode(as: Cluster.self)
        let ops = try documents[3].decode(as: OpsRequest.self)

        let component = try #require(definition.componentDef(named: "qdrant"))
        #expect(component.workloadType == .stateful)
        #expect(component.podSpec?.containers.first?.ports?.map(\.containerPort) == [6333, 6334, 9091, 6335])
        #expect(component.scriptSpecs?.first?.defaultMode == 0o555)
        #expect(component.monitor?.exporterConfig?.scrapePort == .int(6333))
        #expect(definition.spec.connectionCredential?["password"] == "$(RANDOM_PASSWD)")
        #expect(version.spec.componentVersions.first?.versionsContext.containers?.first?.image == "docker.io/qdrant/qdrant:v1.5.0")
        #expect(cluster.spec.componentSpecs.first?.resources?.requests?["memory"] == Quantity(bytes: 512 * 1024 * 1024))
        #expect(cluster.spec.affinity?.topologyKeys == ["kubernetes.io/hostname"])
        #expect(cluster.spec.tolerations?.first?.effect == "NoSchedule")
        #expect(ops.spec.horizontalScaling == [.init(componentName: "qdrant", replicas: 5)])

        #expect(definition.validate() == [])
        #expect(version.validate(definition: definition) == [])
        #expect(cluster.validate(definition: definition, version: version) == [])
        #expect(ops.validate(cluster: cluster) == [])
    }

    @Test("defaults: replicas 1 and the rest the schema defaults; terminationPolicy has none")
    func clusterDefaults() {
        let cluster = Cluster(
            metadata: .init(name: "c"),
            spec: ClusterSpec(
                clusterDefinitionRef: "qdrant", terminationPolicy: .doNotTerminate, affinity: Affinity(topologyKeys: ["zone"]),
                componentSpecs: [ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", services: [.init(name: "vpc")])]))
        let defaulted = cluster.withDefaults()
        #expect(defaulted.spec.terminationPolicy == .doNotTerminate)
        #expect(defaulted.spec.componentSpecs[0].replicas == 1)
        #expect(defaulted.spec.componentSpecs[0].monitor == false)
        #expect(defaulted.spec.componentSpecs[0].services?.first?.serviceType == .clusterIP)
        #expect(defaulted.spec.affinity?.podAntiAffinity == .preferred)
        #expect(defaulted.spec.affinity?.tenancy == .sharedNode)
        #expect(defaulted.withDefaults() == defaulted, "defaulting twice changes nothing")

        let given = Cluster(
            spec: ClusterSpec(
                clusterDefinitionRef: "qdrant", terminationPolicy: .halt,
                componentSpecs: [ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", replicas: 0)])
        ).withDefaults()
        #expect(given.spec.terminationPolicy == .halt)
        #expect(given.spec.componentSpecs[0].replicas == 0)
    }

    @Test("pipeline and ops defaults")
    func otherDefaults() throws {
        let pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        var bare = pipeline
        bare.spec.queue = nil
        bare.spec.scaling = nil
        bare.spec.embedder.batchSize = nil
        bare.spec.sinks[0].metric = nil
        let defaulted = bare.withDefaults()
        #expect(defaulted.spec.queue?.kind == .postgres)
        #expect(defaulted.spec.queue?.visibilityTimeoutSeconds == 60)
        #expect(defaulted.spec.queue?.maxReceiveCount == 5)
        #expect(defaulted.spec.embedder.batchSize == 64)
        #expect(defaulted.spec.sinks[0].metric == .cosine)
        #expect(defaulted.spec.scaling?.minReplicas == 1)
        #expect(defaulted.spec.scaling?.maxReplicas == 10)
        #expect(defaulted.spec.scaling?.targetBacklogPerReplica == 1000)
        #expect(defaulted.spec.source.backfill == true)

        let ops = OpsRequest(spec: OpsRequestSpec(clusterRef: "c", type: .stop)).withDefaults()
        #expect(ops.spec.cancel == false)
    }
}

@Suite("Validation: every problem with its field and a fix")
struct ValidationTests {
    let definition: ClusterDefinition
    let version: ClusterVersion

    init() throws {
        let qdrant = try Addon.qdrant.objects()
        definition = qdrant.definition
        version = qdrant.version
    }

    func cluster(_ components: [ClusterComponentSpec], name: String = "vectors") -> Cluster {
        Cluster(
            metadata: .init(name: name, namespace: "default"),
            spec: ClusterSpec(clusterDefinitionRef: "qdrant", terminationPolicy: .delete, componentSpecs: components))
    }

    func storage(_ size: Quantity) -> [ClusterComponentVolumeClaimTemplate] {
        [ClusterComponentVolumeClaimTemplate(name: "data", spec: .init(resources: .init(requests: ["storage": size])))]
    }

    func fields(_ errors: [FieldError]) -> [String] { errors.map(\.field) }

    @Test("the examples and the addons are valid")
    func examplesAreValid() throws {
        #expect(definition.validate() == [])
        #expect(version.validate(definition: definition) == [])
        let pg = try Addon.pgvector.objects()
        #expect(pg.definition.validate() == [])
        #expect(pg.version.validate(definition: pg.definition) == [])
        let qdrantCluster = try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self)
        #expect(qdrantCluster.validate(definition: definition, version: version) == [])
        let pgCluster = try decodeYAML("examples/pgvector-cluster.yaml", as: Cluster.self)
        #expect(pgCluster.validate(definition: pg.definition, version: pg.version) == [])
        #expect(try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self).validate() == [])
        for type in OpsType.allCases {
            let file = "examples/opsrequest-\(type.rawValue.replacing(/([a-z])([A-Z])/) { "\($0.1)-\($0.2)" }.lowercased()).yaml"
            let ops = try decodeYAML(file, as: OpsRequest.self)
            #expect(ops.spec.type == type)
            let target = ops.spec.clusterRef == "vectors" ? qdrantCluster : pgCluster
            #expect(ops.validate(cluster: target) == [], "\(file)")
        }
    }

    @Test("component names are unique DNS labels of at most 22 characters")
    func componentNames() {
        let errors = cluster([
            ClusterComponentSpec(name: "a-component-name-that-is-too-long", componentDefRef: "qdrant"),
            ClusterComponentSpec(name: "Qdrant_1", componentDefRef: "qdrant"),
            ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant"),
            ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant"),
        ]).validate()
        #expect(fields(errors) == ["spec.componentSpecs[3].name", "spec.componentSpecs[0].name", "spec.componentSpecs[1].name"])
        #expect(errors[0].message.contains("Duplicate value"))
        #expect(errors[1].message.contains("at most 22"))
        #expect(errors[2].fix.contains("lower-case"))
    }

    @Test("componentDefRef names a component of the definition")
    func componentDefRef() throws {
        let errors = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrnt")]).validate(definition: definition)
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.field == "spec.componentSpecs[0].componentDefRef")
        #expect(error.message.contains("\"qdrnt\" is not a component of ClusterDefinition \"qdrant\""))
        #expect(error.fix == "use one of: qdrant")
    }

    @Test("the version belongs to the Cluster's definition")
    func versionOfAnotherDefinition() throws {
        let pgVersion = try Addon.pgvector.objects().version
        let errors = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant")]).validate(version: pgVersion)
        #expect(fields(errors) == ["spec.clusterVersionRef"])
    }

    @Test("requests do not exceed limits")
    func requestsWithinLimits() {
        let errors = cluster([
            ClusterComponentSpec(
                name: "qdrant", componentDefRef: "qdrant",
                resources: .init(limits: ["cpu": "1", "memory": "1Gi"], requests: ["cpu": "1500m", "memory": "1024Mi"]))
        ]).validate()
        #expect(fields(errors) == ["spec.componentSpecs[0].resources.requests[cpu]"])
        #expect(errors.first?.message == "Invalid value: \"1500m\": must be less than or equal to cpu limit of 1")
    }

    @Test("storage never shrinks, and the definition never changes")
    func updates() {
        let old = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", volumeClaimTemplates: storage("20Gi"))])
        let grown = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", volumeClaimTemplates: storage("21474836480"))])
        #expect(grown.validate(old: old) == [], "the same size written differently is not a shrink")
        var shrunk = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", volumeClaimTemplates: storage("10Gi"))])
        shrunk.spec.clusterDefinitionRef = "pgvector"
        let errors = shrunk.validate(old: old)
        #expect(
            fields(errors) == [
                "spec.clusterDefinitionRef", "spec.componentSpecs[0].volumeClaimTemplates[0].spec.resources.requests[storage]",
            ])
        #expect(errors[1].message == "Forbidden: storage may not shrink from 20Gi to 10Gi")
    }

    @Test("replicas are not negative")
    func negativeReplicas() {
        let errors = cluster([ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", replicas: -1)]).validate()
        #expect(fields(errors) == ["spec.componentSpecs[0].replicas"])
    }

    @Test("the ClusterVersion covers the definition's components with images of its containers")
    func versionCoverage() throws {
        var version = self.version
        version.spec.componentVersions = [
            ClusterComponentVersion(
                componentDefRef: "qdrant-typo",
                versionsContext: VersionsContext(containers: [CoreV1.Container(name: "qdrant")]))
        ]
        let errors = version.validate(definition: definition)
        #expect(
            fields(errors) == [
                "spec.componentVersions[0].versionsContext.containers[0].image",
                "spec.componentVersions[0].componentDefRef", "spec.componentVersions",
            ])
        #expect(errors[2].message.contains("no version of component \"qdrant\""))

        version.spec.componentVersions = [
            ClusterComponentVersion(
                componentDefRef: "qdrant",
                versionsContext: VersionsContext(containers: [CoreV1.Container(image: "x", name: "sidecar")]))
        ]
        #expect(fields(version.validate(definition: definition)) == ["spec.componentVersions[0].versionsContext.containers[0].name"])
    }

    @Test("a definition's templates are mounted, its components and ports named")
    func definitionRules() {
        var broken = definition
        broken.spec.componentDefs[0].scriptSpecs?[0].volumeName = "scripts-typo"
        broken.spec.componentDefs[0].service?.ports?[1].name = nil
        broken.spec.componentDefs.append(broken.spec.componentDefs[0])
        let errors = broken.validate()
        #expect(fields(errors).contains("spec.componentDefs[0].scriptSpecs[0].volumeName"))
        #expect(fields(errors).contains("spec.componentDefs[0].service.ports[1].name"))
        #expect(fields(errors).contains("spec.componentDefs[1].name"))
    }

    @Test("the connection credential uses only variables the operator replaces and ports the definition has")
    func credentialVariables() {
        var broken = definition
        broken.spec.connectionCredential = ["port": "$(SVC_PORT_rest)", "token": "$(UUID_B64)", "endpoint": "$(SVC_FQDN):$(SVC_PORT_http)"]
        let errors = broken.validate()
        #expect(errors.map(\.field) == ["spec.connectionCredential[port]", "spec.connectionCredential[token]"])
        #expect(errors.first?.fix == "use one of: $(SVC_PORT_http), $(SVC_PORT_grpc)")
    }

    @Test("scaling requests name existing components; volumes only grow; parameters match the type")
    func opsRequests() throws {
        let target = try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self)
        let scaling = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .horizontalScaling,
                horizontalScaling: [.init(componentName: "qdrant", replicas: 5), .init(componentName: "search", replicas: 2)]))
        let errors = scaling.validate(cluster: target)
        #expect(fields(errors) == ["spec.horizontalScaling[1].componentName"])
        #expect(errors.first?.fix == "use one of: qdrant")

        let shrink = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .volumeExpansion,
                volumeExpansion: [
                    .init(componentName: "qdrant", volumeClaimTemplates: [.init(name: "data", storage: "10Gi"), .init(name: "logs", storage: "1Gi")])
                ]))
        #expect(
            fields(shrink.validate(cluster: target)) == [
                "spec.volumeExpansion[0].volumeClaimTemplates[0].storage", "spec.volumeExpansion[0].volumeClaimTemplates[1].name",
            ])

        let mismatched = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .restart,
                horizontalScaling: [.init(componentName: "qdrant", replicas: 1)]))
        #expect(fields(mismatched.validate()) == ["spec.horizontalScaling", "spec.restart"])

        let vertical = OpsRequest(
            spec: OpsRequestSpec(
                clusterRef: "vectors", type: .verticalScaling,
                verticalScaling: [.init(componentName: "qdrant", requests: ["memory": "8Gi"], limits: ["memory": "4Gi"]), .init(componentName: "qdrant")]))
        #expect(
            fields(vertical.validate()) == [
                "spec.verticalScaling[1].componentName", "spec.verticalScaling[0].requests[memory]", "spec.verticalScaling[1]",
            ])

        var cancelled = scaling
        cancelled.spec.cancel = true
        #expect(cancelled.validate(cluster: target).map(\.field) == ["spec.horizontalScaling[1].componentName"], "scaling can be cancelled")
        let cancelledRestart = OpsRequest(spec: OpsRequestSpec(clusterRef: "vectors", type: .restart, cancel: true, restart: [.init(componentName: "qdrant")]))
        #expect(fields(cancelledRestart.validate()) == ["spec.cancel"])

        var changed = scaling
        changed.spec.clusterRef = "other"
        changed.spec.type = .restart
        changed.spec.restart = [.init(componentName: "qdrant")]
        changed.spec.horizontalScaling = nil
        #expect(fields(changed.validate(old: scaling)) == ["spec.clusterRef", "spec.type"])
    }

    @Test("a pipeline has what its queue, embedder and sinks need")
    func pipelineRules() throws {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        pipeline.spec.source.textTemplate = "constant text"
        pipeline.spec.source.primaryKey = ["id", "id"]
        pipeline.spec.queue = .init(kind: .sqs)
        pipeline.spec.embedder.model = nil
        pipeline.spec.embedder.openai = nil
        pipeline.spec.sinks[0].clusterRef = nil
        pipeline.spec.sinks[1].endpoint = .init(url: "https://example.com")
        pipeline.spec.sinks.append(pipeline.spec.sinks[0])
        pipeline.spec.scaling = .init(mode: .cpu, minReplicas: 5, maxReplicas: 2)
        let errors = pipeline.validate()
        #expect(
            fields(errors) == [
                "spec.source.primaryKey[1]", "spec.source.textTemplate", "spec.queue.sqs", "spec.embedder.model", "spec.embedder.openai",
                "spec.sinks[2].name", "spec.sinks[0]", "spec.sinks[1].endpoint", "spec.sinks[1].endpoint.url", "spec.sinks[2]",
                "spec.scaling.minReplicas", "spec.scaling.targetCPUUtilizationPercentage",
            ])
        #expect(errors.allSatisfy { !$0.fix.isEmpty })
    }
}
