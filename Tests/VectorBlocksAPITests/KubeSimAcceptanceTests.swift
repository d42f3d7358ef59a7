import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

/// Installs both addons from deploy/addons into their namespace.
private func installAddons(_ client: KubeClient) async throws {
    _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
    for addon in Addon.all {
        let objects = try addon.objects()
        for configMap in objects.configMaps { _ = try await client.create(configMap) }
        let definition = try await client.create(objects.definition)
        #expect(definition.spec == objects.definition.withDefaults().spec, "the server stores \(addon.name)'s definition as written")
        let version = try await client.create(objects.version)
        #expect(version.spec == objects.version.spec)
    }
}

/// The causes of a rejected request, by field.
private func rejection(_ body: () async throws -> Void) async -> KubeAPIError? {
    do {
        try await body()
        return nil
    } catch let error as KubeAPIError {
        return error
    } catch {
        Issue.record("expected a KubeAPIError, got \(error)")
        return nil
    }
}

@Suite("The CRDs and examples against KubeSim")
struct KubeSimAcceptanceTests {
    @Test("every CRD is accepted and served, with its short names")
    func crdsAccepted() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let resources = try #require(try await client.serverResources(groupVersion: VectorBlocksAPI.apiVersion))
            let served = Dictionary(uniqueKeysWithValues: resources.resources.map { ($0.name, $0.shortNames ?? []) })
            #expect(served["clusters"] == ["vbc"])
            #expect(served["clusterdefinitions"] == ["cd"])
            #expect(served["clusterversions"] == ["cv"])
            #expect(served["opsrequests"] == ["ops"])
            #expect(served["vectorpipelines"] == ["vp"])
            #expect(served["clusters/status"] != nil)
        }
    }

    @Test("every example is created through KubeKit, and the server's defaults are the library's")
    func examplesCreated() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            try await installAddons(client)
            for file in ["qdrant-cluster", "pgvector-cluster"] {
                let cluster = try decodeYAML("examples/\(file).yaml", as: Cluster.self)
                let stored = try await client.create(cluster)
                #expect(stored.spec == cluster.withDefaults().spec, "examples/\(file).yaml: no field was pruned or defaulted differently")
                #expect(stored.metadata?.generation == 1)
            }
            let examples = try FileManager.default.contentsOfDirectory(atPath: repositoryFile("examples").path)
            for file in examples.filter({ $0.hasPrefix("opsrequest-") }).sorted() {
                let ops = try decodeYAML("examples/\(file)", as: OpsRequest.self)
                let stored = try await client.create(ops)
                #expect(stored.spec == ops.withDefaults().spec, "examples/\(file)")
            }
            let pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
            let stored = try await client.create(pipeline)
            #expect(stored.spec == pipeline.withDefaults().spec)

            // A bare Cluster gets every default from the server, and they are the library's.
            let bare = Cluster(
                metadata: .init(name: "bare"),
                spec: ClusterSpec(
                    clusterDefinitionRef: "qdrant", terminationPolicy: .halt,
                    affinity: Affinity(), componentSpecs: [ClusterComponentSpec(name: "qdrant", componentDefRef: "qdrant", services: [.init(name: "vpc")])]))
            let defaulted = try await client.create(bare)
            #expect(defaulted.spec == bare.withDefaults().spec)
            #expect(defaulted.spec.componentSpecs.first?.replicas == 1)
        }
    }

    @Test(
        "the bad examples are rejected with a message naming the field",
        arguments: [
            "cluster-negative-replicas", "cluster-unknown-termination-policy", "cluster-malformed-quantity", "cluster-missing-definition",
            "cluster-missing-termination-policy",
        ])
    func badExamplesRejected(name: String) async throws {
        let path = "examples/bad/\(name).yaml"
        let field = try await expectedField(path)
        let document = try #require(try yamlDocuments(path).first)
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let error = try #require(await rejection { _ = try await client.create(Cluster.descriptor, document, namespace: "default") })
            #expect(error.code == 422)
            #expect(error.causes.map(\.field) == [field])
            #expect(error.message.contains("\(field): "), "\(error.message)")
        }
    }

    @Test("a changed clusterDefinitionRef is rejected on update")
    func changedDefinitionRejected() async throws {
        let path = "examples/bad/cluster-changed-definition.yaml"
        let field = try await expectedField(path)
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let stored = try await client.create(try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self))
            var changed = try decodeYAML(path, as: Cluster.self)
            changed.metadata?.resourceVersion = stored.metadata?.resourceVersion
            let error = try #require(await rejection { _ = try await client.update(changed) })
            #expect(error.code == 422)
            #expect(error.causes.map(\.field) == [field])
            #expect(error.message.hasSuffix("spec.clusterDefinitionRef: Invalid value: \"string\": clusterDefinitionRef is immutable"))
            #expect(changed.validate(old: stored).map(\.field) == [field], "the library says the same")

            var kept = stored
            kept.spec.componentSpecs[0].replicas = 5
            let updated = try await client.update(kept)
            #expect(updated.spec.componentSpecs[0].replicas == 5)
            #expect(updated.metadata?.generation == 2)
        }
    }

    @Test("an OpsRequest's clusterRef and type cannot change")
    func opsRequestImmutable() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            let stored = try await client.create(try decodeYAML("examples/opsrequest-restart.yaml", as: OpsRequest.self))
            var changed = stored
            changed.spec.clusterRef = "embeddings"
            changed.spec.type = .stop
            changed.spec.restart = nil
            let error = try #require(await rejection { _ = try await client.update(changed) })
            #expect(Set(error.causes.map(\.field)) == ["spec.clusterRef", "spec.type"])
            #expect(error.message.contains("forbidden to update spec.clusterRef"))
        }
    }

    /// The field a bad example names in its `# expect-field:` comment.
    private func expectedField(_ path: String) async throws -> String {
        let text = try String(contentsOf: repositoryFile(path), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("# expect-field: ") })
        return String(line.dropFirst("# expect-field: ".count))
    }
}

@Suite("Status schemas carry every field the controllers write")
struct StatusSchemaTests {
    let now = MetaV1.Time(Date(timeIntervalSince1970: 1_800_000_000))

    func condition(_ type: String) -> MetaV1.Condition {
        MetaV1.Condition(lastTransitionTime: now, message: "all replicas ready", observedGeneration: 2, reason: "AllReady", status: "True", type: type)
    }

    @Test("a full status of each kind survives the status subresource unpruned")
    func statusRoundTrip() async throws {
        try await withKubeSim { _, client in
            try await installVectorBlocksCRDs(client)
            var cluster = try await client.create(try decodeYAML("examples/qdrant-cluster.yaml", as: Cluster.self))
            cluster.status = ClusterStatus(
                phase: .running, message: "ok", observedGeneration: 1, clusterDefGeneration: 3,
                components: [
                    "qdrant": ClusterComponentStatus(phase: .running, message: ["Pod/vectors-qdrant-0": "ready"], podsReady: true, podsReadyTime: now)
                ],
                conditions: ClusterStatus.ConditionType.allCases.map { condition($0.rawValue) })
            #expect(try await client.updateStatus(cluster).status == cluster.status)

            var ops = try await client.create(try decodeYAML("examples/opsrequest-horizontal-scaling.yaml", as: OpsRequest.self))
            ops.status = OpsRequestStatus(
                clusterGeneration: 2, phase: .running, progress: "1/2",
                lastConfiguration: .init(
                    clusterVersionRef: "qdrant-1.12.5",
                    components: [
                        "qdrant": .init(
                            replicas: 3, requests: ["cpu": "500m"], limits: ["cpu": "2"], volumeClaimTemplates: [.init(name: "data", storage: "20Gi")],
                            services: [.init(name: "vpc", serviceType: .loadBalancer)])
                    ]),
                startTimestamp: now, completionTimestamp: now, cancelTimestamp: now, conditions: [condition("Progressing")])
            let storedOps = try await client.updateStatus(ops)
            #expect(storedOps.status == ops.status)

            var pipeline = try await client.create(try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self))
            pipeline.status = VectorPipelineStatus(
                phase: .backfilling, observedGeneration: 1, backlog: 1200, deadLetters: 2,
                sinks: [.init(name: "qdrant", ready: true, backfillComplete: false, lastError: "timeout")], conditions: [condition("Ready")])
            #expect(try await client.updateStatus(pipeline).status == pipeline.status)

            var definition = try await client.create(try Addon.qdrant.objects().definition)
            definition.status = AvailabilityStatus(phase: .available, message: "ok", observedGeneration: 1)
            #expect(try await client.updateStatus(definition).status == definition.status)

            var badProgress = storedOps
            badProgress.status?.progress = "half"
            let rejected = await rejection { _ = try await client.updateStatus(badProgress) }
            #expect(rejected?.code == 422)
            #expect(rejected?.causes.map(\.field) == ["status.progress"])
        }
    }
}

@Suite("kubectl, a client we did not write")
struct KubectlTests {
    @Test("kubectl applies the CRDs and an example, and shows the field of a rejected one")
    func kubectlScenario() async throws {
        let kubectl = ProcessInfo.processInfo.environment["VB_KUBECTL"] ?? "/usr/bin/kubectl"
        try #require(FileManager.default.isExecutableFile(atPath: kubectl), "kubectl is missing at \(kubectl): install it or set VB_KUBECTL")
        try await withKubeSim { server, _ in
            let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("vb-kubeconfig-\(UUID().uuidString).yaml")
            defer { try? FileManager.default.removeItem(at: kubeconfig) }
            try Data(server.kubeconfigYAML(token: nil).utf8).write(to: kubeconfig)
            func kubectlRun(_ arguments: [String]) async throws -> ProcessResult {
                try await run(
                    kubectl, ["--kubeconfig", kubeconfig.path] + arguments,
                    environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path])
            }
            let crds = try await kubectlRun(["apply", "--server-side", "-f", "crds/"])
            #expect(crds.status == 0, "\(crds.output)")
            let created = try await kubectlRun(["apply", "-f", "examples/qdrant-cluster.yaml"])
            #expect(created.status == 0, "\(created.output)")
            let policy = try await kubectlRun(["get", "vbc", "vectors", "-o", "jsonpath={.spec.terminationPolicy}/{.spec.componentSpecs[0].replicas}"])
            #expect(policy.output == "Delete/3", "\(policy.output)")
            let rejected = try await kubectlRun(["apply", "-f", "examples/bad/cluster-negative-replicas.yaml"])
            #expect(rejected.status != 0)
            #expect(
                rejected.output.contains(
                    "spec.componentSpecs[0].replicas: Invalid value: -1: spec.componentSpecs[0].replicas in body should be greater than or equal to 0"),
                "\(rejected.output)")
            let changed = try await kubectlRun(["apply", "-f", "examples/bad/cluster-changed-definition.yaml"])
            #expect(changed.status != 0)
            #expect(changed.output.contains("spec.clusterDefinitionRef: Invalid value: \"string\": clusterDefinitionRef is immutable"), "\(changed.output)")
        }
    }
}
