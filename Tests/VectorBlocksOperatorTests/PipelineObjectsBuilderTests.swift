import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// The pipeline's objects from the pure builder, without a server.
@Suite("VectorPipeline objects builder")
struct PipelineObjectsBuilderTests {
    static func pipeline(_ edit: (inout VectorPipeline) -> Void = { _ in }) throws -> VectorPipeline {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        pipeline.metadata?.uid = "uid-documents"
        edit(&pipeline)
        return pipeline.withDefaults()
    }

    static let runningClusters: [String: SinkClusterObservation] = [
        "qdrant": SinkClusterObservation(phase: .running, definitionType: "qdrant", credentialKeys: ["endpoint", "apiKey", "password"]),
        "pgvector": SinkClusterObservation(
            phase: .running, definitionType: "postgresql", credentialKeys: ["username", "password", "host", "port", "endpoint"]),
    ]

    static func plan(_ pipeline: VectorPipeline, clusters: [String: SinkClusterObservation] = runningClusters, replicas: Int32 = 3) throws -> PipelinePlan {
        try PipelineObjectsBuilder.plan(
            PipelineBuildInput(
                pipeline: pipeline, images: PipelineImages(pelican: "registry.example/pelican:1", emu: "registry.example/emu:1"),
                sinkClusters: clusters, emuReplicas: replicas))
    }

    static func deployment(_ plan: PipelinePlan, _ name: String) throws -> AppsV1.Deployment {
        let object = try #require(plan.objects.first { $0.resource == AppsV1.Deployment.descriptor && $0.name == name })
        return try object.body.decode(as: AppsV1.Deployment.self)
    }

    @Test("every object, owned by the pipeline, labelled, with the images given")
    func objects() throws {
        let plan = try Self.plan(try Self.pipeline())
        #expect(plan.sinkWaits.isEmpty)
        #expect(
            plan.objects.map(\.description) == [
                "ServiceAccount/documents-pipeline", "ConfigMap/documents-pipeline-settings", "Deployment/documents-pelican",
                "Service/documents-pipeline-metrics", "Deployment/documents-emu",
            ])
        for object in plan.objects {
            let owners = try object.body["metadata"]?["ownerReferences"]?.decode(as: [MetaV1.OwnerReference].self)
            #expect(owners?.map(\.uid) == ["uid-documents"])
            #expect(owners?.first?.controller == true)
            #expect(object.body["metadata"]?["labels"]?[PipelineNames.pipelineLabel] == "documents")
            #expect(object.body["metadata"]?["labels"]?["app.kubernetes.io/instance"] == nil)
        }
        let pelican = try Self.deployment(plan, "documents-pelican")
        #expect(pelican.spec?.replicas == 2)
        #expect(pelican.spec?.template.spec?.containers.first?.image == "registry.example/pelican:1")
        #expect(pelican.spec?.template.spec?.serviceAccountName == "documents-pipeline")
        #expect(pelican.spec?.template.spec?.automountServiceAccountToken == false)
        let emu = try Self.deployment(plan, "documents-emu")
        #expect(emu.spec?.replicas == 3)
        #expect(emu.spec?.template.spec?.containers.first?.image == "registry.example/emu:1")
        // No old Emu outlives a new one: a sink added to the spec is written by every Emu that acknowledges a change.
        #expect(emu.spec?.strategy?.type == "Recreate")
        #expect(pelican.spec?.strategy == nil)
        #expect(
            emu.spec?.template.spec?.containers.first?.args == [
                "run", "--payload-column", "title", "--payload-column", "url", "--payload-column", "updated_at", "--max-receive-count", "5",
                "--verify-interval-seconds", "21600", "--pgvector-table", "public.document_vectors", "--metric", "Cosine",
            ])
    }

    @Test("credentials reach the pods only through secretKeyRef; settings through the ConfigMap")
    func credentialsAreReferences() throws {
        let plan = try Self.plan(try Self.pipeline())
        let emu = try Self.deployment(plan, "documents-emu")
        let env = try #require(emu.spec?.template.spec?.containers.first?.env)
        func reference(_ name: String) -> (String?, String?) {
            let value = env.first { $0.name == name }?.valueFrom?.secretKeyRef
            return (value?.name, value?.key)
        }
        #expect(reference("VECTORSYNC_SOURCE_URL") == ("app-database", "uri"))
        #expect(reference("OPENAI_API_KEY") == ("openai", "api-key"))
        #expect(reference("VECTORSYNC_QDRANT_URL") == ("vectors-conn-credential", "endpoint"))
        #expect(reference("QDRANT_API_KEY") == ("vectors-conn-credential", "apiKey"))
        #expect(reference("VB_PGVECTOR_PASSWORD") == ("embeddings-conn-credential", "password"))
        let url = env.first { $0.name == "VECTORSYNC_PGVECTOR_URL" }?.value
        #expect(url == "postgres://$(VB_PGVECTOR_USER):$(VB_PGVECTOR_PASSWORD)@$(VB_PGVECTOR_HOST):$(VB_PGVECTOR_PORT)/postgres")
        // Every variable a value expands is defined before it, as the kubelet requires.
        let position = Dictionary(uniqueKeysWithValues: env.enumerated().map { ($1.name, $0) })
        for name in ["VB_PGVECTOR_USER", "VB_PGVECTOR_PASSWORD", "VB_PGVECTOR_HOST", "VB_PGVECTOR_PORT"] {
            #expect((position[name] ?? .max) < (position["VECTORSYNC_PGVECTOR_URL"] ?? -1))
        }
        for entry in env where entry.value != nil {
            #expect(entry.name == "VECTORSYNC_PGVECTOR_URL" || entry.name == "VECTORSYNC_QDRANT_COLLECTION", "\(entry.name) is a literal")
        }
        let configMap = try #require(plan.objects.first { $0.resource == CoreV1.ConfigMap.descriptor })
        let settings = try #require(try configMap.body.decode(as: CoreV1.ConfigMap.self).data)
        #expect(settings["VECTORSYNC_TEXT_TEMPLATE"] == "{title}\n\n{body}")
        #expect(settings["VECTORSYNC_PRIMARY_KEY"] == "id")
        #expect(settings["VECTORSYNC_PIPELINE"] == PipelineNames(pipeline: "documents", namespace: "default").sourceStateName)
        #expect(settings["VECTORSYNC_OPENAI_URL"] == "https://api.openai.com/v1")
        #expect(!settings.values.contains { $0.contains("secret") || $0.contains("@") })
    }

    @Test("the source-state name is an SQL identifier of at most 40 bytes, distinct per namespace")
    func sourceStateName() {
        let long = PipelineNames(pipeline: String(repeating: "a-", count: 60) + "z", namespace: "team-a").sourceStateName
        #expect(long.utf8.count <= 40)
        #expect(long.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        #expect(PipelineNames(pipeline: "docs", namespace: "a").sourceStateName != PipelineNames(pipeline: "docs", namespace: "b").sourceStateName)
        #expect(PipelineNames(pipeline: "9docs", namespace: "a").sourceStateName.first == "p")
    }

    @Test("a sink Cluster missing or not Running holds Emu back, naming the field; Pelican runs")
    func sinkWaits() throws {
        var clusters = Self.runningClusters
        clusters["qdrant"] = nil
        clusters["pgvector"]?.phase = .creating
        let plan = try Self.plan(try Self.pipeline(), clusters: clusters)
        #expect(plan.sinkWaits.map(\.reason) == ["ClusterNotFound", "ClusterNotReady"])
        #expect(plan.sinkWaits[0].message.hasPrefix("spec.sinks[0].clusterRef.name: Cluster \"vectors\" not found"))
        #expect(plan.sinkWaits[1].message.contains("spec.sinks[1].clusterRef.name"))
        #expect(!plan.objects.contains { $0.name == "documents-emu" })
        #expect(plan.objects.contains { $0.name == "documents-pelican" })

        clusters["pgvector"] = SinkClusterObservation(phase: .running, definitionType: "postgresql", credentialKeys: nil)
        let noSecret = try Self.plan(try Self.pipeline(), clusters: clusters)
        #expect(noSecret.sinkWaits.last?.message.contains("\"embeddings-conn-credential\" does not exist") == true)

        // One sink's Cluster is being made (a migration): Emu writes the other meanwhile, without the waiting one.
        var oneReady = Self.runningClusters
        oneReady["qdrant"] = nil
        let partial = try Self.plan(try Self.pipeline(), clusters: oneReady)
        #expect(partial.sinkWaits.map(\.sink) == ["qdrant"])
        let emu = try Self.deployment(partial, "documents-emu")
        let container = try #require(emu.spec?.template.spec?.containers.first)
        #expect(container.args?.contains("public.document_vectors") == true)
        #expect(!(container.env ?? []).contains { $0.name.hasPrefix("VECTORSYNC_QDRANT") || $0.name == "QDRANT_API_KEY" })
    }

    @Test("what Emu cannot do is refused, naming the sink")
    func refusals() throws {
        let wrongKind = Self.runningClusters.merging(["qdrant": SinkClusterObservation(phase: .running, definitionType: "postgresql", credentialKeys: [])]) {
            $1
        }
        #expect(throws: PipelineBuildError.self) { try Self.plan(try Self.pipeline(), clusters: wrongKind) }
        do {
            _ = try Self.plan(
                try Self.pipeline { pipeline in
                    pipeline.spec.sinks.append(.init(name: "second", kind: .qdrant, endpoint: .init(url: "https://q.example:6333"), collection: "x"))
                    pipeline.spec.sinks[1].metric = .dot
                    pipeline.spec.sinks[0].clusterRef?.namespace = "elsewhere"
                    pipeline.spec.source.textTemplate = "{{title}}"
                })
            Issue.record("accepted")
        } catch let error as PipelineBuildError {
            #expect(
                error.problems.map(\.field) == [
                    "spec.source.textTemplate", "spec.sinks", "spec.sinks[0].clusterRef.namespace", "spec.sinks[2]",
                ])
        }
    }

    @Test("spec.verify.interval becomes Emu's flag, off when unset or 0s; a bad one is refused naming the field")
    func verifyInterval() throws {
        func emuArgs(_ interval: String?) throws -> [String] {
            let plan = try Self.plan(try Self.pipeline { $0.spec.verify = interval.map { .init(interval: $0) } })
            return try Self.deployment(plan, "documents-emu").spec?.template.spec?.containers.first?.args ?? []
        }
        func flag(_ args: [String]) -> String? {
            args.firstIndex(of: "--verify-interval-seconds").map { args[$0 + 1] }
        }
        #expect(flag(try emuArgs("1h30m")) == "5400")
        #expect(flag(try emuArgs("90.5s")) == "91")
        #expect(flag(try emuArgs(nil)) == nil)
        #expect(flag(try emuArgs("0s")) == nil)
        for (interval, backfill, message) in [
            ("6 hours", true, "not a duration"), ("30s", true, "shorter than 1m"), ("6h", false, "spec.source.backfill is false"),
        ] {
            let problems = try Self.pipeline {
                $0.spec.verify = .init(interval: interval)
                $0.spec.source.backfill = backfill
            }.validate()
            #expect(problems.map(\.field) == ["spec.verify.interval"])
            #expect(problems.first?.message.contains(message) == true, "\(problems)")
        }
    }

    @Test("external endpoints keep working with Secret references; a password in a URL is refused")
    func endpoints() throws {
        let pipeline = try Self.pipeline { pipeline in
            pipeline.spec.sinks = [
                .init(
                    name: "q", kind: .qdrant, endpoint: .init(url: "https://q.example:6333", credentialsSecretRef: .init(name: "qdrant-cloud", key: "key")),
                    collection: "docs"),
                .init(
                    name: "p", kind: .pgvector, endpoint: .init(url: "postgres://db.example/vectors", credentialsSecretRef: .init(name: "pg", key: "uri")),
                    collection: "public.v"),
            ]
        }
        let emu = try Self.deployment(try Self.plan(pipeline, clusters: [:]), "documents-emu")
        let env = try #require(emu.spec?.template.spec?.containers.first?.env)
        #expect(env.first { $0.name == "VECTORSYNC_QDRANT_URL" }?.value == "https://q.example:6333")
        #expect(env.first { $0.name == "QDRANT_API_KEY" }?.valueFrom?.secretKeyRef?.name == "qdrant-cloud")
        #expect(env.first { $0.name == "VECTORSYNC_PGVECTOR_URL" }?.valueFrom?.secretKeyRef?.name == "pg")

        let leaky = try Self.pipeline {
            $0.spec.sinks[1] = .init(name: "p", kind: .pgvector, endpoint: .init(url: "postgres://app:hunter2@db/v"), collection: "v")
        }
        #expect(leaky.validate().map(\.field) == ["spec.sinks[1].endpoint.url"])
        #expect(!leaky.validate().description.contains("hunter2"))
    }

    @Test("mode CPU makes an HPA that owns Emu's replicas")
    func cpuScaling() throws {
        let plan = try Self.plan(try Self.pipeline { $0.spec.scaling = .init(mode: .cpu, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60) })
        let object = try #require(plan.objects.first { $0.resource == AutoscalingV2.HorizontalPodAutoscaler.descriptor })
        let hpa = try object.body.decode(as: AutoscalingV2.HorizontalPodAutoscaler.self)
        #expect(hpa.spec.scaleTargetRef.name == "documents-emu")
        #expect(hpa.spec.minReplicas == 2 && hpa.spec.maxReplicas == 6)
        #expect(hpa.spec.metrics?.first?.resource?.target.averageUtilization == 60)
        #expect(try Self.deployment(plan, "documents-emu").spec?.replicas == nil)
        #expect(try Self.plan(try Self.pipeline()).objects.allSatisfy { $0.resource != AutoscalingV2.HorizontalPodAutoscaler.descriptor })
    }

    @Test("a sink Cluster whose credential changes rolls Emu's pods; the annotation holds no value")
    func credentialChangeRollsEmu() throws {
        var clusters = Self.runningClusters
        clusters["qdrant"]?.credentialDigest = PipelineReconciler.digest(of: ["apiKey": "one", "endpoint": "http://a:6333"])
        let before = try Self.deployment(try Self.plan(try Self.pipeline(), clusters: clusters), "documents-emu")
        clusters["qdrant"]?.credentialDigest = PipelineReconciler.digest(of: ["apiKey": "two", "endpoint": "http://a:6333"])
        let after = try Self.deployment(try Self.plan(try Self.pipeline(), clusters: clusters), "documents-emu")
        let key = PipelineObjectsBuilder.sinkCredentialsAnnotation
        let annotation = try #require(before.spec?.template.metadata?.annotations?[key])
        #expect(annotation != after.spec?.template.metadata?.annotations?[key])
        #expect(!annotation.contains("one") && annotation.hasPrefix("qdrant="))
    }

    @Test("the same input gives the same objects")
    func deterministic() throws {
        let first = try Self.plan(try Self.pipeline()).objects
        let second = try Self.plan(try Self.pipeline()).objects
        #expect(first == second)
    }
}
