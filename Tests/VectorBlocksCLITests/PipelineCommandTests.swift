import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksCLI

/// `kbctl pipeline create | list | describe | delete` against KubeSim with the operator running.
@Suite("kbctl pipeline")
struct PipelineCommandTests {
    @Test func createListDescribeAndDelete() async throws {
        try await withKubeSim(workloads: true) { _, client in
            try await installOperatorPrerequisites(client)
            let running = RunningOperator(client: client, pipelineStatusInterval: .milliseconds(500))
            let session = Session(client: client, namespace: "default")

            var mustache = PipelineCreation(
                name: "documents", namespace: "default", sourceSecret: "app-database", table: "public.documents", primaryKey: ["id"],
                textTemplate: "{{title}}")
            mustache.qdrantCluster = "vectors"
            await #expect { try await session.createPipeline(mustache) } throws: {
                "\($0)".contains("--text-template (spec.source.textTemplate)") && "\($0)".contains("write {title}")
            }
            var noSink = mustache
            noSink.qdrantCluster = nil
            noSink.textTemplate = "{title}"
            await #expect { try await session.createPipeline(noSink) } throws: { "\($0)".contains("--qdrant-cluster") }

            var creation = mustache
            creation.textTemplate = "{title}: {body}"
            creation.primaryKey = ["document_id", "lang"]
            creation.payloadColumns = ["title"]
            let created = try await session.createPipeline(creation)
            #expect(created.spec.source.primaryKey == ["document_id", "lang"])
            #expect(created.spec.sinks.map(\.clusterRef?.name) == ["vectors"])

            // The operator's first word: the Secret it waits for.
            _ = try await eventually("the operator to report") {
                (try await session.getPipeline("documents")).status?.phase == .pending ? true : nil
            }
            let listed = try await session.listPipelines()
            #expect(listed.hasPrefix("NAME"))
            #expect(listed.contains("documents") && listed.contains("public.documents") && listed.contains("Pending"))
            let described = try await session.describePipeline("documents")
            #expect(described.contains("Sinks:") && described.contains("cluster/vectors"))
            #expect(described.contains("SecretNotFound"))
            #expect(described.contains("spec.source.connectionSecretRef: Secret \"app-database\" not found"))

            let json = try await Session(client: client, namespace: "default", format: .json).describePipeline("documents")
            let decoded = try JSONDecoder().decode(VectorPipeline.self, from: Data(json.utf8))
            #expect(decoded.metadata?.name == "documents")
            let yaml = try await Session(client: client, namespace: "default", format: .yaml).listPipelines()
            #expect(yaml.contains("kind: VectorPipeline"))

            try await session.deletePipeline("documents")
            _ = try await eventually("the pipeline to go") { () -> Bool? in
                do {
                    _ = try await session.getPipeline("documents")
                    return nil
                } catch {
                    return "\(error)".contains("not found") ? true : nil
                }
            }
            await #expect { try await session.describePipeline("documents") } throws: { "\($0)".contains("kbctl pipeline list") }
            await running.stop()
        }
    }
}
