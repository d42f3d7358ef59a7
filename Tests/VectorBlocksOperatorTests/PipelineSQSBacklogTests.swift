import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator
@testable import VectorSync

/// An `sqs` queue's backlog comes from SQS (moto here), read with the pipeline's credentials Secret, and Emu's
/// replicas follow it.
@Suite("VectorPipeline with an SQS queue")
struct PipelineSQSBacklogTests {
    @Test func theBacklogIsSQSsApproximateNumberOfMessagesAndEmuFollowsIt() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await PostgresServer.with { postgres in
            try await withKubeSim(workloads: true) { _, client in
                try await installVectorBlocksCRDs(client)
                let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: .shared)
                let admin = try SQSQueue(
                    queueURL: moto.endpoint + "/123456789012/none", region: "us-east-1", credentials: credentials, http: .shared, logger: .init(label: "test"))
                let answer = try await admin.call("CreateQueue", ["QueueName": .string("documents-changes")])
                guard case .object(let fields) = answer, case .string(let queueURL) = fields["QueueUrl"] ?? .null else {
                    throw TestSetupError("CreateQueue answered \(answer)")
                }
                let queue = try SQSQueue(queueURL: queueURL, region: "us-east-1", credentials: credentials, http: .shared, logger: .init(label: "test"))
                try await queue.send((1...7).map { ChangeMessage(table: "public.documents", pk: "\($0)", op: .insert, seq: Int64($0)) })

                for secret in [
                    PipelineControllerTests.secret("app-database", ["uri": postgres.url()]),
                    PipelineControllerTests.secret("aws", ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]),
                    PipelineControllerTests.secret("vectors", ["uri": postgres.url()]),
                ] { _ = try await client.create(secret) }
                let running = RunningOperator(client: client, pipelineStatusInterval: .milliseconds(500))
                _ = try await client.create(
                    VectorPipeline(
                        metadata: .init(name: "documents", namespace: "default"),
                        spec: VectorPipelineSpec(
                            source: .init(
                                connectionSecretRef: .init(name: "app-database", key: "uri"), table: "public.documents", primaryKey: ["id"],
                                textTemplate: "{body}"),
                            queue: .init(kind: .sqs, sqs: .init(queueURL: queueURL, region: "us-east-1", credentialsSecretName: "aws")),
                            embedder: .init(kind: .hash, dimension: 16),
                            sinks: [
                                .init(
                                    name: "pgvector", kind: .pgvector,
                                    endpoint: .init(url: "postgres://127.0.0.1/postgres", credentialsSecretRef: .init(name: "vectors", key: "uri")),
                                    collection: "public.vectors")
                            ],
                            scaling: .init(minReplicas: 1, maxReplicas: 5, targetBacklogPerReplica: 2, scaleUpCooldownSeconds: 0, scaleDownCooldownSeconds: 0)))
                )
                let scaled = try await eventually("the backlog from SQS and Emu at 4 replicas") { () -> VectorPipeline? in
                    let pipeline = try await PipelineControllerTests.pipeline(client)
                    return pipeline.status?.backlog == 7 && pipeline.status?.emuReplicas == 4 ? pipeline : nil
                }
                #expect(PipelineControllerTests.condition(scaled, .sourceReady)?.status == "True")
                let emu = try await eventually("the Emu Deployment at 4 replicas") {
                    let deployment = try? await client.get(AppsV1.Deployment.self, name: "documents-emu", namespace: "default")
                    return deployment?.spec?.replicas == 4 ? deployment : nil
                }
                let env = emu.spec?.template.spec?.containers.first?.env ?? []
                #expect(env.first { $0.name == "AWS_SECRET_ACCESS_KEY" }?.valueFrom?.secretKeyRef?.name == "aws")
                await running.stop()
            }
        }
    }
}
