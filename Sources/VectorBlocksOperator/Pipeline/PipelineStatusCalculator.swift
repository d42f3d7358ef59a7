import Foundation
import KubeKit
import OperatorKit
import VectorBlocksAPI
import VectorSync

/// Everything a pipeline's status is computed from, gathered by the reconciler.
public struct PipelineObservation: Sendable {
    /// The spec cannot run: each problem names its field.
    public var specProblems: [FieldError] = []
    /// Secrets the spec names that are missing (or lack the key), each naming the field.
    public var missingSecrets: [String] = []
    /// Whether the source's connection Secret is among them (then nothing runs).
    public var sourceSecretMissing = false
    public var sinkWaits: [SinkWait] = []
    /// The source database's answer, or why it could not be asked.
    public var source: Result<PipelineStateReport, SourceUnreachable>?
    /// An `sqs` queue's backlog from SQS, or why it could not be read; nil for a postgres queue.
    public var sqsBacklog: Result<Int64, SourceUnreachable>?
    public var pelican: WorkloadState?
    public var emu: WorkloadState?
    public var emuReplicas: Int32?
    public var lastScaleTime: MetaV1.Time?
    public var sourceStateName: String
    /// The removed sinks and what became of their data; nil leaves the status's list as it is.
    public var removedSinks: [RemovedSink]?

    public init(sourceStateName: String) {
        self.sourceStateName = sourceStateName
    }
}

extension PipelineObservation {
    /// Messages waiting for Emu: captured changes not yet queued, and the queue's own (the jobs table, or SQS's
    /// count); nil before the source has answered.
    public var backlog: Int64? {
        guard case .success(let report) = source else { return nil }
        let queued = (try? sqsBacklog?.get()) ?? report.queuedMessages
        return queued + report.outboxRows
    }
}

public struct SourceUnreachable: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// The status of a pipeline as a pure function of what was observed: conditions (SourceReady, CaptureInstalled,
/// SinksReady, BackfillComplete, Ready), the phase, and the figures from the source database.
public enum PipelineStatusCalculator {
    typealias Condition = VectorPipelineStatus.ConditionType

    public static func status(for pipeline: VectorPipeline, observation: PipelineObservation, now: MetaV1.Time) -> VectorPipelineStatus {
        let generation = pipeline.metadata?.generation
        var status = pipeline.status ?? VectorPipelineStatus()
        var conditions = status.conditions ?? []
        func set(_ type: Condition, _ value: Bool, _ reason: String, _ message: String) {
            Conditions.set(
                &conditions, type: type.rawValue, status: value ? .true : .false, reason: reason, message: message,
                observedGeneration: generation, now: now)
        }
        status.observedGeneration = generation
        status.sourceStateName = observation.sourceStateName
        status.emuReplicas = observation.emuReplicas
        status.lastScaleTime = observation.lastScaleTime
        if let removed = observation.removedSinks {
            status.removedSinks = removed.isEmpty ? nil : removed
            for condition in PipelineSinkRemoval.conditions(removed) {
                Conditions.set(
                    &conditions, type: condition.type.rawValue, status: condition.isTrue ? .true : .false, reason: condition.reason,
                    message: condition.message, observedGeneration: generation, now: now)
            }
        }

        if !observation.specProblems.isEmpty {
            let message = observation.specProblems.map(\.description).joined(separator: "; ")
            set(.ready, false, "InvalidSpec", message)
            status.phase = .failed
            status.conditions = conditions
            return status
        }

        let report = try? observation.source?.get()
        if observation.sourceSecretMissing {
            set(.sourceReady, false, "SecretNotFound", observation.missingSecrets.joined(separator: "; "))
        } else if case .failure(let failure) = observation.source {
            set(.sourceReady, false, "SourceUnreachable", failure.message)
        } else if case .failure(let failure) = observation.sqsBacklog {
            set(.sourceReady, false, "QueueUnreadable", failure.message)
        } else if report != nil {
            set(.sourceReady, true, "Connected", "the source database answers")
        }
        let captured = report?.captureInstalled == true
        set(
            .captureInstalled, captured, captured ? "TriggerInstalled" : "WaitingForPelican",
            captured ? "the capture trigger is on \(pipeline.spec.source.table)" : "Pelican installs the capture trigger once it runs")

        let sinkProblems = observation.sinkWaits.map(\.message) + (observation.sourceSecretMissing ? [] : observation.missingSecrets)
        set(
            .sinksReady, sinkProblems.isEmpty, sinkProblems.isEmpty ? "SinksReady" : (observation.sinkWaits.first?.reason ?? "SecretNotFound"),
            sinkProblems.isEmpty ? "every sink can be written" : sinkProblems.joined(separator: "; "))

        let backfillWanted = pipeline.spec.source.backfill ?? true
        let backfillDone = !backfillWanted || report?.backfillDone == true
        let migrations = report.map { report in
            pipeline.spec.sinks.map { sink in
                PipelineSinkMigration.state(
                    of: sink, among: pipeline.spec.sinks, records: report.sinkBackfills, pipelineBackfillDone: backfillDone, tableRows: report.tableRows)
            }
        }
        // A sink added to the running pipeline backfills alone; the pipeline keeps streaming into the others.
        let sinksBackfilling = zip(pipeline.spec.sinks, migrations ?? []).filter { !$0.1.backfillComplete }.map { sink, state in
            "sink \(sink.name): " + (state.backfill.map { "\($0.rowsDone ?? 0) rows of about \($0.rowsTotal ?? 0)" } ?? "waiting for Emu to start its backfill")
        }
        if backfillDone, !sinksBackfilling.isEmpty {
            set(.backfillComplete, false, "SinkBackfilling", sinksBackfilling.joined(separator: "; "))
        } else {
            set(
                .backfillComplete, backfillDone, backfillWanted ? (backfillDone ? "BackfillComplete" : "Backfilling") : "BackfillDisabled",
                backfillWanted ? "\(report?.backfilledRows ?? 0) rows queued of about \(report?.tableRows ?? 0)" : "spec.source.backfill is false")
        }

        if let report {
            status.backlog = observation.backlog
            status.lagSeconds = Int64((report.oldestWaitingSeconds ?? 0).rounded(.down))
            status.deadLetters = report.deadLetters
            status.lastDeadLetterError = report.lastDeadLetterError
            status.backfill = VectorPipelineStatus.Backfill(
                rowsDone: report.backfilledRows, rowsTotal: max(report.tableRows, report.backfilledRows), complete: report.backfillDone)
        }
        let previousSinks = pipeline.status?.sinks ?? []
        status.sinks = pipeline.spec.sinks.enumerated().map { index, sink in
            let wait = observation.sinkWaits.first { $0.sink == sink.name }
            let migration = migrations?[index]
            var sinkStatus = VectorPipelineStatus.SinkStatus(
                name: sink.name, ready: wait == nil, backfillComplete: migration?.backfillComplete, lastError: wait?.message,
                deletionPolicy: sink.deletionPolicy ?? .retain, target: sink.target.resolved(in: pipeline.metadata?.namespace ?? ""))
            // The last verify's and the migration's figures, kept while the source cannot be asked.
            if let report, let migration {
                let verified = PipelineSinkVerify.status(of: sink, in: report.verifications)
                sinkStatus.rows = verified?.rows
                sinkStatus.verify = verified?.verify
                sinkStatus.backfill = migration.backfill
                sinkStatus.comparison = migration.comparison
            } else if let previous = previousSinks.first(where: { $0.name == sink.name }) {
                sinkStatus.rows = previous.rows
                sinkStatus.verify = previous.verify
                sinkStatus.backfill = previous.backfill
                sinkStatus.comparison = previous.comparison
            }
            return sinkStatus
        }
        if let report { status.lastVerifyTime = PipelineSinkVerify.lastVerifyTime(of: pipeline.spec.sinks, in: report.verifications) }

        let workersAvailable = available(observation.pelican) && (observation.emuReplicas == 0 || available(observation.emu))
        let sourceReady = Conditions.isTrue(conditions, type: Condition.sourceReady.rawValue)
        let ready = sourceReady && captured && sinkProblems.isEmpty && workersAvailable
        var readyReason = "Ready"
        var readyMessage = ""
        if ready {
            (readyReason, readyMessage) = ("Ready", backfillDone ? "changes stream into every sink" : "backfilling")
        } else if !sourceReady {
            (readyReason, readyMessage) = (
                "SourceNotReady", conditions.first { $0.type == Condition.sourceReady.rawValue }?.message ?? "the source is not checked yet"
            )
        } else if !sinkProblems.isEmpty {
            (readyReason, readyMessage) = ("SinksNotReady", sinkProblems.joined(separator: "; "))
        } else if !workersAvailable {
            (readyReason, readyMessage) = ("WorkersUnavailable", "Pelican or Emu has no available replica yet")
        } else {
            (readyReason, readyMessage) = ("WaitingForCapture", "Pelican has not installed the capture trigger yet")
        }
        set(.ready, ready, readyReason, readyMessage)
        status.conditions = conditions

        // Emu writes the sinks that can be written while others wait (a sink's Cluster being made for a migration).
        let someSinksWritten = observation.sinkWaits.count < pipeline.spec.sinks.count && observation.emu != nil
        if !sourceReady || report == nil || !captured || (!sinkProblems.isEmpty && !someSinksWritten) {
            status.phase = .pending
        } else if !workersAvailable || !sinkProblems.isEmpty {
            status.phase = .degraded
        } else if !backfillDone {
            status.phase = .backfilling
        } else {
            status.phase = .streaming
        }
        return status
    }

    static func available(_ workload: WorkloadState?) -> Bool {
        guard let workload else { return false }
        return workload.readyReplicas > 0
    }
}
