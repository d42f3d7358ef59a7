import Foundation
import KubeKit
import PostgresNIO
import VectorBlocksPostgres

extension PgvectorAdapter: ReplicationEngine {
    public func replicaStates(_ component: EngineComponent) async -> [String: ReplicaState] {
        var states: [String: ReplicaState] = [:]
        await withTaskGroup(of: (String, ReplicaState?).self) { group in
            // Not only ready pods: a server whose pod is not ready (or is terminating) may still accept writes, and
            // no standby is promoted while one does.
            for pod in component.pods {
                guard let name = pod.metadata?.name else { continue }
                group.addTask { (name, try? await self.replicaState(pod, in: component)) }
            }
            for await (name, state) in group {
                if let state { states[name] = state }
            }
        }
        return states
    }

    private func replicaState(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> ReplicaState? {
        try await query(pod, in: component) { connection in
            let rows = try await connection.guardedQuery(
                """
                SELECT pg_is_in_recovery(),
                       coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text,
                       current_setting('primary_conninfo'),
                       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
                """, logger: logger)
            for try await (inRecovery, received, upstream, streaming) in rows.decode((Bool, String?, String, Bool).self) {
                return ReplicaState(
                    inRecovery: inRecovery, receivedLSN: received.flatMap(WALPosition.init), upstream: Self.withoutPassword(upstream),
                    streaming: streaming)
            }
            return nil
        }
    }

    public func promote(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> Bool {
        try await query(pod, in: component) { connection in
            // Within the statement timeout; a promotion still running is looked at again on the next reconcile.
            let rows = try await connection.guardedQuery("SELECT pg_promote(true, 4)", logger: logger)
            for try await promoted in rows.decode(Bool.self) { return promoted }
            return false
        }
    }

    public func follow(_ pod: CoreV1.Pod, primary: CoreV1.Pod, in component: EngineComponent) async throws {
        guard let address = component.addressing.address(primary, Self.port) else {
            throw Unreachable(pod: primary.metadata?.name ?? "")
        }
        let upstream = FailoverPlan.upstream(
            host: address.host, port: address.port, user: component.credential["username"] ?? "postgres",
            applicationName: pod.metadata?.name ?? "")
        _ = try await query(pod, in: component) { connection in
            // ALTER SYSTEM takes no bind parameters: the value is quoted as a literal.
            let literal = "'" + upstream.replacingOccurrences(of: "'", with: "''") + "'"
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET primary_conninfo = \(literal)"), logger: logger)
            // Through its own slot on the primary, which keeps the WAL it has not received yet.
            let slot = Self.literal(ReplicationSlots.name(forPod: pod.metadata?.name ?? ""))
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET primary_slot_name = \(slot)"), logger: logger)
            // PostgreSQL 13 and later restart the WAL receiver on a reload that changes primary_conninfo or the slot.
            try await connection.guardedQuery("SELECT pg_reload_conf()", logger: logger)
        }
    }

    public func isFollowing(_ state: ReplicaState, primary: CoreV1.Pod, in component: EngineComponent) -> Bool {
        guard let name = primary.metadata?.name, let host = FailoverPlan.connectionParameter("host", in: state.upstream) else { return false }
        // The setup script points a starting standby at the primary's DNS name; the operator at its address.
        if host == name || host.hasPrefix(name + ".") { return true }
        guard let address = component.addressing.address(primary, Self.port) else { return false }
        let port = FailoverPlan.connectionParameter("port", in: state.upstream).flatMap(Int.init) ?? Self.port
        return host == address.host && port == address.port
    }

    public func checkpoint(_ pod: CoreV1.Pod, in component: EngineComponent) async throws {
        _ = try await query(pod, in: component) { connection in
            try await connection.guardedQuery("CHECKPOINT", logger: logger)
        }
    }

    public func synchronousStandbys(_ pod: CoreV1.Pod, in component: EngineComponent) async throws -> String {
        try await query(pod, in: component) { connection in
            let rows = try await connection.guardedQuery("SELECT current_setting('synchronous_standby_names')", logger: logger)
            for try await setting in rows.decode(String.self) { return setting }
            return ""
        }
    }

    public func setSynchronousStandbys(_ setting: String, on pod: CoreV1.Pod, in component: EngineComponent) async throws {
        _ = try await query(pod, in: component) { connection in
            // ALTER SYSTEM takes no bind parameters: the value is quoted as a literal. Allowed on a standby too, so a
            // standby about to be promoted waits for its standbys from its first commit.
            let literal = "'" + setting.replacingOccurrences(of: "'", with: "''") + "'"
            try await connection.guardedQuery(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET synchronous_standby_names = \(literal)"), logger: logger)
            try await connection.guardedQuery("SELECT pg_reload_conf()", logger: logger)
        }
    }

    /// A connection string as a standby reports it, any password left out: it is compared and may be logged.
    static func withoutPassword(_ conninfo: String) -> String {
        conninfo.split(separator: " ").filter { !$0.hasPrefix("password=") }.joined(separator: " ")
    }
}
