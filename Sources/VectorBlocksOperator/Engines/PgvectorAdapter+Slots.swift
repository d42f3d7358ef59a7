import KubeKit
import PostgresNIO
import VectorBlocksPostgres

extension PgvectorAdapter: SlotKeepingEngine {
    public func replicationView(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> ReplicationView {
        try await query(pod, in: component) { connection in
            var view: ReplicationView?
            let rows = try await connection.guardedQuery(
                """
                SELECT pg_is_in_recovery(),
                       (SELECT setting::bigint FROM pg_settings WHERE name = 'max_slot_wal_keep_size'),
                       current_setting('primary_slot_name'),
                       pg_last_wal_receive_lsn()::text,
                       pg_last_wal_replay_lsn()::text,
                       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
                       (SELECT min(substr(name, 9, 16)) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'),
                       (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'),
                       (SELECT timeline_id::bigint FROM pg_control_checkpoint()),
                       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END
                """, logger: logger)
            for try await (inRecovery, keep, primarySlot, received, replayed, streaming, oldestSegment, segmentSize, checkpointTimeline, walFile)
                in rows.decode((Bool, Int64, String, String?, String?, Bool, String?, Int64, Int64, String?).self)
            {
                view = ReplicationView(
                    inRecovery: inRecovery, keepMegabytes: keep, primarySlot: primarySlot,
                    oldestWAL: oldestSegment.flatMap { Self.segmentStart($0, segmentSize: segmentSize) },
                    receivedLSN: received.flatMap(WALPosition.init), replayedLSN: replayed.flatMap(WALPosition.init), streaming: streaming,
                    timeline: walFile.flatMap(TimelineFork.timeline(walFileName:)) ?? UInt32(exactly: checkpointTimeline))
            }
            guard var view else { throw Unreachable(pod: pod.metadata?.name ?? "") }
            let slots = try await connection.guardedQuery(
                "SELECT slot_name::text, active, wal_status FROM pg_replication_slots WHERE slot_type = 'physical'", logger: logger)
            for try await (name, active, walStatus) in slots.decode((String, Bool, String?).self) {
                view.slots.append(ReplicationSlots.Slot(name: name, active: active, walStatus: walStatus))
            }
            // A primary past its first timeline: where the earlier ones forked, for standbys that may be past it.
            if !view.inRecovery, let timeline = view.timeline, timeline > 1 {
                let path = "pg_wal/" + TimelineFork.historyFileName(timeline)
                let history = try await connection.guardedQuery("SELECT pg_read_file(\(path), 0, 1048576, true)", logger: logger)
                for try await text in history.decode(String?.self) {
                    view.forks = TimelineFork.forks(history: text ?? "")
                }
            }
            return view
        }
    }

    public func changeSlots(
        create: [String], drop: [String], renew: [String], keepMegabytes: Int64?, on pod: CoreV1.Pod, in component: EngineComponent
    ) async throws {
        _ = try await query(pod, in: component) { connection in
            // The bound first, so no slot ever holds more WAL than it allows.
            if let keepMegabytes {
                try await connection.guardedQuery(
                    PostgresQuery(unsafeSQL: "ALTER SYSTEM SET max_slot_wal_keep_size = '\(keepMegabytes)MB'"), logger: logger)
                try await connection.guardedQuery("SELECT pg_reload_conf()", logger: logger)
            }
            for name in renew {
                // A WAL sender holding an invalidated slot keeps it from being dropped, and the slot keeps nothing for
                // its standby: the sender is ended (waited for up to 2 s, within the statement timeout), and the
                // standby's WAL receiver connects again to the slot made below. Only while the slot is still lost:
                // one made again since is left alone.
                try await connection.guardedQuery(
                    """
                    SELECT pg_terminate_backend(active_pid, 2000) FROM pg_replication_slots
                    WHERE slot_name = \(name) AND wal_status = 'lost' AND active_pid IS NOT NULL
                    """, logger: logger)
                try await connection.guardedQuery(
                    """
                    SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                    WHERE slot_name = \(name) AND wal_status = 'lost' AND NOT active
                    """, logger: logger)
            }
            for name in drop {
                // A slot a WAL sender took since it was read stays, for the next look.
                try await connection.guardedQuery(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = \(name) AND NOT active",
                    logger: logger)
            }
            for name in create + renew {
                // Reserving WAL at once: what is written from now on waits for the standby.
                try await connection.guardedQuery(
                    """
                    SELECT pg_create_physical_replication_slot(\(name), true)
                    WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = \(name))
                    """, logger: logger)
            }
        }
    }

    public func usePrimarySlot(_ slot: String, on pod: CoreV1.Pod, in component: EngineComponent) async throws {
        _ = try await query(pod, in: component) { connection in
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET primary_slot_name = \(Self.literal(slot))"), logger: logger)
            // PostgreSQL 13 and later restart the WAL receiver on a reload that changes primary_slot_name.
            try await connection.guardedQuery("SELECT pg_reload_conf()", logger: logger)
        }
    }

    public func mark(_ pod: CoreV1.Pod, for restart: StandbyRestart, in component: EngineComponent) async throws {
        _ = try await query(pod, in: component) { connection in
            var directory: String?
            let rows = try await connection.guardedQuery("SELECT current_setting('data_directory'), pg_is_in_recovery()", logger: logger)
            for try await (path, inRecovery) in rows.decode((String, Bool).self) where inRecovery {
                directory = path
            }
            // Only a standby: its data is a copy of what a primary has.
            guard let directory else { throw NotAStandby(pod: pod.metadata?.name ?? "") }
            let marker = Self.literal(directory + "/" + Self.marker(restart))
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "COPY (SELECT \(Self.literal(restart.rawValue))) TO \(marker)"), logger: logger)
        }
    }

    /// The file in a standby's data directory that makes the setup script clone the primary afresh or rewind.
    static func marker(_ restart: StandbyRestart) -> String { "vectorblocks.\(restart.rawValue)" }

    /// The first WAL position of a segment named by its last 16 hex digits (log and segment, the timeline left
    /// out), for a segment size of `segmentSize` bytes.
    static func segmentStart(_ logAndSegment: String, segmentSize: Int64) -> WALPosition? {
        guard logAndSegment.count == 16, segmentSize > 0, let log = UInt64(logAndSegment.prefix(8), radix: 16),
            let segment = UInt64(logAndSegment.suffix(8), radix: 16)
        else { return nil }
        return WALPosition(value: log << 32 + segment * UInt64(segmentSize))
    }

    /// A value quoted as an SQL literal, for statements (ALTER SYSTEM, COPY) that take no bind parameters.
    static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    struct NotAStandby: Error, CustomStringConvertible {
        var pod: String
        var description: String { "\(pod) runs read-write: only a standby is cloned afresh or rewound" }
    }
}
