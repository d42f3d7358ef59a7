import Metrics

/// The pipeline's counters and timers, under the names /metrics shows.
struct PipelineMetrics: Sendable {
    let rowsBackfilled = Counter(label: "vectorsync_rows_backfilled_total")
    let changesCaptured = Counter(label: "vectorsync_changes_captured_total")
    let messagesQueued = Counter(label: "vectorsync_messages_queued_total")
    let messagesReceived = Counter(label: "vectorsync_messages_received_total")
    let messagesAcked = Counter(label: "vectorsync_messages_acked_total")
    let messagesDeadLettered = Counter(label: "vectorsync_messages_dead_lettered_total")
    let rowsEmbedded = Counter(label: "vectorsync_rows_embedded_total")
    let rowsUnchanged = Counter(label: "vectorsync_rows_unchanged_total")
    let embedLatency = Timer(label: "vectorsync_embed_duration_seconds")
    let upsertLatency = Timer(label: "vectorsync_upsert_duration_seconds")
}
