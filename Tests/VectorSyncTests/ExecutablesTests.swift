import AsyncHTTPClient
import Foundation
import TestSupport
import Testing

@testable import VectorSync

/// The `pelican` and `emu` executables wired by their flags to the SQS queue (moto), a pgvector table and a Qdrant
/// collection at once, as their Deployments would run them, with Emu's periodic verify.
@Suite("pelican and emu through SQS into pgvector and Qdrant")
struct ExecutablesTests {
    @Test func theFlagsWireTheSQSQueueAndBothSinks() async throws {
        let moto = try await MotoServer.start()
        let qdrant = try await QdrantServer.start(apiKey: "executables-key")
        let keys = try TemporaryDirectory()
        try "executables-key\n".write(toFile: keys.path + "/qdrant-api-key", atomically: true, encoding: .utf8)
        do {
            try await PipelineHarness.with(rows: 300) { harness in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
                let admin = try SQSQueue(
                    queueURL: moto.endpoint + "/123456789012/none", region: SQSQueueTests.region, credentials: credentials, http: http, logger: harness.logger)
                let queueURL = try await SQSQueueTests.createQueue(admin, name: "products-changes", attributes: [:])
                try await http.shutdown()

                let queueArguments = ["--queue", "sqs", "--sqs-queue-url", queueURL, "--aws-region", SQSQueueTests.region]
                let environment = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]
                let pelican = try BackgroundProgram.start("pelican", harness.sourceArguments + queueArguments + ["--http-port", "0"], environment: environment)
                let emu = try BackgroundProgram.start(
                    "emu",
                    ["run"] + harness.sourceArguments + queueArguments + [
                        "--dimension", "\(PipelineHarness.dimension)", "--pgvector-table", "vectors.products",
                        "--qdrant-url", qdrant.baseURL, "--qdrant-collection", "products", "--qdrant-api-key-file", keys.path + "/qdrant-api-key",
                        "--http-port", "0", "--verify-interval-seconds", "1",
                    ], environment: environment)

                try await BackgroundProgram.reportingOutput(of: [pelican, emu]) {
                    try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
                    try await harness.execute("UPDATE products SET description = 'Sent through SQS.' WHERE id BETWEEN 1 AND 5")
                    try await harness.execute("DELETE FROM products WHERE id = 300")
                    try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
                    // The periodic verify (--verify-interval-seconds) finds a vector lost behind the pipeline's back and
                    // re-queues it through SQS; both sinks' verifies are recorded.
                    try await harness.execute("DELETE FROM vectors.products WHERE id = '7'")
                    try await harness.waitUntilSinkMatchesSource(qdrant: (qdrant, "products"))
                    try await eventually("both sinks' verifies to be recorded") {
                        try await harness.scalar("SELECT count(*) FROM vectorsync.verifications WHERE pipeline = 'products'") == 2
                    }
                    // Nothing went through the postgres queue.
                    #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.jobs") == 0)
                    #expect(pelican.isRunning && emu.isRunning, "pelican:\n\(pelican.output)\nemu:\n\(emu.output)")
                }
                await pelican.kill()
                await emu.kill()
            }
        } catch {
            moto.stop()
            try? await qdrant.shutdown()
            throw error
        }
        moto.stop()
        try await qdrant.shutdown()
    }
}
