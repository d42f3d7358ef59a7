import Foundation
import KubeKit
import VectorBlocksAPI
import VectorSync

/// A sink's last verify, as Emu recorded it in the source database, in the pipeline's status.
enum PipelineSinkVerify {
    /// The name Emu gives the sink, which its verify records carry: a pgvector sink's table, `qdrant:<collection>`.
    static func emuName(of sink: VectorPipelineSpec.Sink) -> String {
        switch sink.kind {
        case .pgvector: sink.collection
        case .qdrant: "qdrant:" + sink.collection
        }
    }

    /// The status of a sink's last verify, nil before its first.
    static func status(of sink: VectorPipelineSpec.Sink, in reports: [SinkVerifyReport]) -> (rows: Int64, verify: VectorPipelineStatus.SinkVerify)? {
        guard let report = reports.first(where: { $0.sink == emuName(of: sink) }) else { return nil }
        let counts = report.counts
        let verify = VectorPipelineStatus.SinkVerify(
            time: time(report.verifiedAt), sourceRows: counts.sourceRows, missing: counts.missing, stale: counts.stale,
            orphaned: counts.orphaned, requeued: report.requeued)
        return (counts.sinkRows, verify)
    }

    /// The latest verify of any of the spec's sinks (records of sinks since removed do not count).
    static func lastVerifyTime(of sinks: [VectorPipelineSpec.Sink], in reports: [SinkVerifyReport]) -> MetaV1.Time? {
        let names = Set(sinks.map(emuName))
        return reports.filter { names.contains($0.sink) }.map(\.verifiedAt).max().map(time)
    }

    /// Whole seconds, as a Kubernetes time is written, so an unchanged record is an unchanged status.
    private static func time(_ date: Date) -> MetaV1.Time {
        MetaV1.Time(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}
