import VectorBlocksAPI

/// The Events a change of the sinks' status makes: a sink added to the running pipeline, one whose own backfill is
/// done, a sink compared with another, a sink no longer written. A pure function of the status before and after.
enum PipelineSinkEvents {
    struct Event: Sendable, Hashable {
        var warning: Bool
        var reason: String
        var message: String
    }

    static func between(_ before: VectorPipelineStatus?, _ after: VectorPipelineStatus) -> [Event] {
        let previous = Dictionary((before?.sinks ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var events: [Event] = []
        // Before the first status there is no pipeline to add a sink to, nor a backfill to end.
        let running = !(before?.sinks ?? []).isEmpty
        for sink in after.sinks ?? [] {
            let old = previous[sink.name]
            if running, old == nil {
                events.append(
                    Event(
                        warning: false, reason: "SinkAdded",
                        message:
                            "sink \(sink.name) was added to the running pipeline: once Emu writes it, it backfills alone while the other sinks keep streaming"
                    ))
            }
            if running, let backfill = sink.backfill, backfill.complete == true, old?.backfill?.complete != true {
                events.append(
                    Event(
                        warning: false, reason: "SinkBackfillComplete",
                        message: "sink \(sink.name) has its own backfill done: \(backfill.rowsDone ?? 0) source rows looked at"))
            }
            if let comparison = sink.comparison, comparison != old?.comparison {
                events.append(
                    Event(
                        warning: false, reason: "SinksCompared",
                        message:
                            "sink \(sink.name) against \(comparison.against): recall@10 \(comparison.recallAt10) over \(comparison.samples ?? 0) sampled rows"
                    ))
            }
        }
        let remaining = Set((after.sinks ?? []).map(\.name))
        for name in previous.keys.sorted() where !remaining.contains(name) {
            let fate =
                previous[name]?.deletionPolicy == .delete
                ? "with deletionPolicy Delete, its data is dropped then, if this pipeline made it"
                : "its vectors are kept where they are"
            events.append(
                Event(warning: false, reason: "SinkRemoved", message: "sink \(name) was removed: it is no longer written once Emu's rollout ends; \(fate)"))
        }
        return events + removals(before?.removedSinks, after.removedSinks)
    }

    /// A removed sink's data dropped, or kept because this pipeline did not make it.
    static func removals(_ before: [RemovedSink]?, _ after: [RemovedSink]?) -> [Event] {
        (after ?? []).compactMap { entry in
            let old = (before ?? []).first { $0.target == entry.target && $0.name == entry.name }
            guard old?.state != entry.state else { return nil }
            switch entry.state {
            case .deleted: return Event(warning: false, reason: "SinkDataDeleted", message: "sink \(entry.name): \(entry.message ?? "dropped")")
            case .gone: return Event(warning: false, reason: "SinkDataGone", message: "sink \(entry.name): \(entry.message ?? "nothing to drop")")
            case .kept: return Event(warning: true, reason: "SinkDataKept", message: "sink \(entry.name): \(entry.message ?? "kept")")
            case .pending, .retained: return nil
            }
        }
    }
}
