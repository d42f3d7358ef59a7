import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksCLI

/// What `kbctl pipeline describe` shows of the drift repair, from a pipeline's spec and status.
@Suite("kbctl pipeline describe: verify")
struct PipelineVerifyDescribeTests {
    @Test func showsTheIntervalAndEachSinksLastVerify() throws {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        let time = MetaV1.Time(Date(timeIntervalSince1970: 1_800_000_000))
        pipeline.status = VectorPipelineStatus(
            sinks: [
                .init(
                    name: "pgvector", ready: true, rows: 998,
                    verify: .init(time: time, sourceRows: 1000, missing: 3, stale: 2, orphaned: 1, requeued: 6))
            ], lastVerifyTime: time)
        let text = Session.verifySection(pipeline, width: nil)
        #expect(text.contains("Verify: every 6h, last at \(time.rfc3339)"))
        let pgvector = try #require(text.split(separator: "\n").first { $0.hasPrefix("pgvector") })
        #expect(pgvector.split(separator: " ").map(String.init) == ["pgvector", "998", "1000", "3", "2", "1", "6", time.rfc3339])
        let qdrant = try #require(text.split(separator: "\n").first { $0.hasPrefix("qdrant") })
        #expect(qdrant.split(separator: " ").map(String.init) == ["qdrant"] + Array(repeating: "-", count: 7))

        pipeline.spec.verify = nil
        #expect(Session.verifySection(pipeline, width: nil).contains("Verify: off (set spec.verify.interval)"))
    }

    @Test func createTakesAVerifyIntervalAndRefusesABadOneInItsFlagsWords() throws {
        var creation = PipelineCreation(
            name: "documents", namespace: "default", sourceSecret: "app-database", table: "public.documents", primaryKey: ["id"],
            textTemplate: "{title}")
        creation.qdrantCluster = "vectors"
        creation.verifyInterval = "6h"
        #expect(try creation.pipeline().spec.verify?.interval == "6h")
        creation.verifyInterval = "often"
        #expect {
            try creation.pipeline()
        } throws: {
            "\($0)".contains("--verify-interval (spec.verify.interval)") && "\($0)".contains("not a duration")
        }
    }
}
