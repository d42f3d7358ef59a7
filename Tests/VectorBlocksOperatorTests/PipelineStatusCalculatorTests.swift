import Foundation
import KubeKit
import OperatorKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorSync

@testable import VectorBlocksOperator

/// The pipeline's status from what was observed, without a server.
@Suite("VectorPipeline status")
struct PipelineStatusCalculatorTests {
    let now = MetaV1.Time(Date(timeIntervalSince1970: 1_800_000_000))
    let available = WorkloadState(generation: 1, observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1)

    func pipeline() throws -> VectorPipeline {
        var pipeline = try decodeYAML("examples/vectorpipeline.yaml", as: VectorPipeline.self)
        pipeline.metadata?.generation = 2
        return pipeline.withDefaults()
    }

    func observation(_ edit: (inout PipelineObservation) -> Void = { _ in }) -> PipelineObservation {
        var observation = PipelineObservation(sourceStateName: "documents_1234abcd")
        var report = PipelineStateReport()
        report.captureInstalled = true
        report.backfilledRows = 400
        report.tableRows = 1000
        report.queuedMessages = 120
        report.outboxRows = 3
        report.oldestWaitingSeconds = 4.7
        observation.source = .success(report)
        observation.pelican = available
        observation.emu = available
        observation.emuReplicas = 1
        edit(&observation)
        return observation
    }

    func condition(_ status: VectorPipelineStatus, _ type: VectorPipelineStatus.ConditionType) -> MetaV1.Condition? {
        Conditions.find(status.conditions, type: type.rawValue)
    }

    @Test("backfilling, then streaming, with the figures from the source")
    func phases() throws {
        let status = PipelineStatusCalculator.status(for: try pipeline(), observation: observation(), now: now)
        #expect(status.phase == .backfilling)
        #expect(status.backlog == 123)
        #expect(status.lagSeconds == 4)
        #expect(status.backfill == .init(rowsDone: 400, rowsTotal: 1000, complete: false))
        #expect(condition(status, .ready)?.status == "True")
        #expect(condition(status, .backfillComplete)?.status == "False")
        #expect(status.observedGeneration == 2)

        var streaming = try pipeline()
        streaming.status = status
        let next = PipelineStatusCalculator.status(
            for: streaming,
            observation: observation {
                if case .success(var report) = $0.source {
                    report.backfillDone = true
                    $0.source = .success(report)
                }
            },
            now: MetaV1.Time(now.date.addingTimeInterval(60)))
        #expect(next.phase == .streaming)
        // The Ready condition did not change, so its transition time stays.
        #expect(condition(next, .ready)?.lastTransitionTime == condition(status, .ready)?.lastTransitionTime)
        // The same observation gives the same status: an idle pipeline writes nothing.
        var idle = streaming
        idle.status = next
        #expect(
            PipelineStatusCalculator.status(
                for: idle,
                observation: observation {
                    if case .success(var report) = $0.source {
                        report.backfillDone = true
                        $0.source = .success(report)
                    }
                },
                now: MetaV1.Time(now.date.addingTimeInterval(120))) == next)
    }

    @Test("each sink's last verify: rows, counts and time; lastVerifyTime; kept while the source cannot be asked")
    func verifyFigures() throws {
        let verifiedAt = Date(timeIntervalSince1970: 1_799_999_000.25)
        let verified = observation {
            if case .success(var report) = $0.source {
                report.backfillDone = true
                report.verifications = [
                    SinkVerifyReport(
                        sink: "public.document_vectors", verifiedAt: verifiedAt,
                        counts: DriftCounts(sourceRows: 1000, sinkRows: 998, missing: 3, stale: 2, orphaned: 1), requeued: 6),
                    SinkVerifyReport(sink: "some.other_table", verifiedAt: verifiedAt.addingTimeInterval(500), counts: DriftCounts(), requeued: 0),
                ]
                $0.source = .success(report)
            }
        }
        let status = PipelineStatusCalculator.status(for: try pipeline(), observation: verified, now: now)
        let seconds = MetaV1.Time(Date(timeIntervalSince1970: 1_799_999_000))
        let pgvector = status.sinks?.first { $0.name == "pgvector" }
        #expect(pgvector?.rows == 998)
        #expect(
            pgvector?.verify == .init(time: seconds, sourceRows: 1000, missing: 3, stale: 2, orphaned: 1, requeued: 6))
        // The Qdrant sink (Emu's "qdrant:documents") has not been verified yet.
        let qdrant = status.sinks?.first { $0.name == "qdrant" }
        #expect(qdrant?.rows == nil)
        #expect(qdrant?.verify == nil)
        // A record of a sink no longer in the spec does not count.
        #expect(status.lastVerifyTime == seconds)

        var verifiedPipeline = try pipeline()
        verifiedPipeline.status = status
        // An idle pipeline: the same records give the same status, so nothing is written.
        #expect(PipelineStatusCalculator.status(for: verifiedPipeline, observation: verified, now: now) == status)
        // A source that cannot be asked keeps the figures.
        let unreachable = PipelineStatusCalculator.status(
            for: verifiedPipeline, observation: observation { $0.source = .failure(SourceUnreachable("connection refused")) }, now: now)
        #expect(unreachable.sinks?.first { $0.name == "pgvector" }?.verify == pgvector?.verify)
        #expect(unreachable.sinks?.first { $0.name == "pgvector" }?.rows == 998)
    }

    @Test("a missing Secret, a waiting sink and an unreachable source are conditions naming the field")
    func waiting() throws {
        let secret = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.sourceSecretMissing = true
                $0.missingSecrets = ["spec.source.connectionSecretRef: Secret \"app-database\" not found in \"default\"; create it"]
                $0.source = nil
            }, now: now)
        #expect(secret.phase == .pending)
        #expect(condition(secret, .sourceReady)?.reason == "SecretNotFound")
        #expect(condition(secret, .ready)?.message.hasPrefix("spec.source.connectionSecretRef") == true)

        let sink = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.sinkWaits = [SinkWait(sink: "qdrant", reason: "ClusterNotFound", message: "spec.sinks[0].clusterRef.name: Cluster \"vectors\" not found")]
                $0.emu = nil
            }, now: now)
        #expect(sink.phase == .pending)
        #expect(condition(sink, .sinksReady)?.reason == "ClusterNotFound")
        #expect(sink.sinks?.first { $0.name == "qdrant" }?.ready == false)
        // Emu writes the other sink meanwhile: the pipeline runs, degraded.
        let oneSinkWritten = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.sinkWaits = [SinkWait(sink: "qdrant", reason: "ClusterNotFound", message: "spec.sinks[0].clusterRef.name: Cluster \"vectors\" not found")]
            }, now: now)
        #expect(oneSinkWritten.phase == .degraded)
        #expect(condition(oneSinkWritten, .ready)?.reason == "SinksNotReady")

        let down = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.source = .failure(SourceUnreachable("spec.source.connectionSecretRef: the source database db:5432/app did not answer"))
            }, now: now)
        #expect(condition(down, .sourceReady)?.reason == "SourceUnreachable")
        #expect(down.phase == .pending)

        let invalid = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.specProblems = [FieldError(field: "spec.source.textTemplate", message: "Invalid value", fix: "write {title}")]
            }, now: now)
        #expect(invalid.phase == .failed)
        #expect(condition(invalid, .ready)?.reason == "InvalidSpec")
    }

    @Test("dead letters and unavailable workers show")
    func degraded() throws {
        let status = PipelineStatusCalculator.status(
            for: try pipeline(),
            observation: observation {
                $0.emu = WorkloadState(generation: 1, observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1)
                if case .success(var report) = $0.source {
                    report.deadLetters = 2
                    report.lastDeadLetterError = "the embedder refused the text"
                    $0.source = .success(report)
                }
            }, now: now)
        #expect(status.phase == .degraded)
        #expect(status.deadLetters == 2)
        #expect(status.lastDeadLetterError == "the embedder refused the text")
        #expect(condition(status, .ready)?.reason == "WorkersUnavailable")
    }

    @Test("a sink added to the running pipeline backfills alone, then shows its comparison; the pipeline keeps streaming")
    func sinkMigration() throws {
        let comparedAt = Date(timeIntervalSince1970: 1_800_000_100.7)
        func streaming(_ backfills: [SinkBackfillReport]) -> PipelineObservation {
            observation {
                if case .success(var report) = $0.source {
                    report.backfillDone = true
                    report.sinkBackfills = backfills
                    $0.source = .success(report)
                }
            }
        }
        // Emu recorded the Qdrant sink only: the pgvector sink is new, and its Emu has not started yet.
        var pipeline = try pipeline()
        let waiting = PipelineStatusCalculator.status(
            for: pipeline, observation: streaming([SinkBackfillReport(sink: "qdrant:documents", state: .covered)]), now: now)
        #expect(waiting.phase == .streaming)
        #expect(waiting.sinks?.map(\.backfillComplete) == [true, false])
        #expect(condition(waiting, .backfillComplete)?.reason == "SinkBackfilling")
        #expect(condition(waiting, .backfillComplete)?.message == "sink pgvector: waiting for Emu to start its backfill")

        let backfilling = PipelineStatusCalculator.status(
            for: pipeline,
            observation: streaming([
                SinkBackfillReport(sink: "public.document_vectors", state: .pending, rowsDone: 250, rowsQueued: 250),
                SinkBackfillReport(sink: "qdrant:documents", state: .covered),
            ]), now: now)
        #expect(backfilling.phase == .streaming)
        #expect(backfilling.sinks?[1].backfill == .init(rowsDone: 250, rowsTotal: 1000, complete: false))
        #expect(backfilling.sinks?[0].backfill == nil)
        #expect(condition(backfilling, .backfillComplete)?.message == "sink pgvector: 250 rows of about 1000")
        pipeline.status = backfilling

        let done = PipelineStatusCalculator.status(
            for: pipeline,
            observation: streaming([
                SinkBackfillReport(
                    sink: "public.document_vectors", state: .done, rowsDone: 1000, rowsQueued: 1000, completedAt: comparedAt,
                    comparison: SinkComparisonReport(reference: "qdrant:documents", recallAt10: 0.98765, samples: 20, comparedAt: comparedAt)),
                SinkBackfillReport(sink: "qdrant:documents", state: .covered),
            ]), now: now)
        #expect(done.sinks?.map(\.backfillComplete) == [true, true])
        #expect(condition(done, .backfillComplete)?.status == "True")
        #expect(
            done.sinks?[1].comparison
                == .init(against: "qdrant", recallAt10: "0.988", samples: 20, time: MetaV1.Time(Date(timeIntervalSince1970: 1_800_000_100))))

        let events = PipelineSinkEvents.between(backfilling, done).map(\.reason)
        #expect(events == ["SinkBackfillComplete", "SinksCompared"])
        var before = waiting
        before.sinks = waiting.sinks.map { Array($0.prefix(1)) }
        #expect(PipelineSinkEvents.between(before, waiting).map(\.reason) == ["SinkAdded"])
        #expect(PipelineSinkEvents.between(nil, waiting).isEmpty)
        #expect(PipelineSinkEvents.between(waiting, backfilling).isEmpty)
        #expect(PipelineSinkEvents.between(done, done).isEmpty)
        var contracted = done
        contracted.sinks = done.sinks.map { Array($0.prefix(1)) }
        #expect(
            PipelineSinkEvents.between(done, contracted).map(\.message) == [
                "sink pgvector was removed: it is no longer written once Emu's rollout ends; its vectors are kept where they are"
            ])
    }
}
