import Foundation
import KubeKit
import VectorBlocksAPI
import VectorSync

/// Migration between sinks in the pipeline's status: a sink added to the running pipeline backfills alone (Emu's
/// `SinkBackfiller`, recorded in the source database), and is then compared with another sink.
enum PipelineSinkMigration {
    /// What the status says of one sink's own backfill and comparison.
    struct SinkState: Sendable, Hashable {
        /// Whether every row has reached the sink's queue: the pipeline's backfill for the sinks it began with, the
        /// sink's own for one added later.
        var backfillComplete: Bool
        /// The sink's own backfill; nil for a sink the pipeline's backfill fed.
        var backfill: VectorPipelineStatus.Backfill?
        var comparison: VectorPipelineStatus.SinkComparison?
    }

    /// `pipelineBackfillDone` is the pipeline's own backfill (or none wanted); `tableRows` the table's estimate.
    static func state(
        of sink: VectorPipelineSpec.Sink, among sinks: [VectorPipelineSpec.Sink], records: [SinkBackfillReport], pipelineBackfillDone: Bool,
        tableRows: Int64
    ) -> SinkState {
        guard let record = records.first(where: { $0.sink == PipelineSinkVerify.emuName(of: sink) }) else {
            // Emu records its sinks when it starts: a sink it has not recorded while it recorded others is one the
            // running Emu does not write yet (its pods are being replaced), so its backfill has not begun.
            return SinkState(backfillComplete: records.isEmpty && pipelineBackfillDone)
        }
        let comparison = record.comparison.map { comparison in
            VectorPipelineStatus.SinkComparison(
                against: sinks.first { PipelineSinkVerify.emuName(of: $0) == comparison.reference }?.name ?? comparison.reference,
                recallAt10: String(format: "%.3f", min(max(comparison.recallAt10, 0), 1)), samples: Int32(comparison.samples),
                time: MetaV1.Time(Date(timeIntervalSince1970: comparison.comparedAt.timeIntervalSince1970.rounded(.down))))
        }
        switch record.state {
        case .covered:
            return SinkState(backfillComplete: pipelineBackfillDone, comparison: comparison)
        case .skipped:
            return SinkState(backfillComplete: true, comparison: comparison)
        case .pending, .done:
            let complete = record.state == .done
            let backfill = VectorPipelineStatus.Backfill(
                rowsDone: record.rowsDone, rowsTotal: complete ? record.rowsDone : max(tableRows, record.rowsDone), complete: complete)
            return SinkState(backfillComplete: complete, backfill: backfill, comparison: comparison)
        }
    }
}
