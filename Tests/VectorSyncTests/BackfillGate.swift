import Logging
import PostgresNIO
import TestSupport

@testable import VectorSync

/// Holds Pelican part-way through its backfill by construction, not by timing. Each backfill batch begins by taking
/// the pipeline's state row (`SELECT … FOR UPDATE`), and PostgreSQL grants a row lock to its waiters in the order
/// they came. The gate takes the row, waits until Pelican queues behind it, queues a second request behind Pelican,
/// then lets go of the first: Pelican commits exactly one more batch and waits behind the second while `body` runs.
struct BackfillGate {
    let harness: PipelineHarness

    func whilePelicanIsHeldAfterOneBatch<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        // Pelican makes the schema and the row when it starts; until then the query fails.
        try await waitFor("the pipeline's state row") {
            try await harness.scalar("SELECT count(*) FROM vectorsync.pipelines WHERE pipeline = '\(PipelineHarness.pipeline)'") > 0
        }
        let (firstHeld, firstHeldSignal) = AsyncStream<Void>.makeStream()
        let (secondHeld, secondHeldSignal) = AsyncStream<Void>.makeStream()
        let (releaseFirst, releaseFirstSignal) = AsyncStream<Void>.makeStream()
        let (releaseSecond, releaseSecondSignal) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await holdStateRow(held: firstHeldSignal, until: releaseFirst) }
            for await _ in firstHeld { break }
            try await waitFor("Pelican to wait for the state row") { try await waiters() >= 1 }
            group.addTask { try await holdStateRow(held: secondHeldSignal, until: releaseSecond) }
            try await waitFor("the second hold to queue behind Pelican") { try await waiters() >= 2 }
            releaseFirstSignal.finish()
            for await _ in secondHeld { break }
            do {
                let result = try await body()
                releaseSecondSignal.finish()
                try await group.waitForAll()
                return result
            } catch {
                releaseSecondSignal.finish()
                throw error
            }
        }
    }

    /// Sessions waiting for a row lock of the pipelines table: Pelican's batch and the gate's second hold.
    private func waiters() async throws -> Int64 {
        try await harness.scalar(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query ILIKE '%vectorsync.pipelines%FOR UPDATE%'
            """)
    }

    private func holdStateRow(held: AsyncStream<Void>.Continuation, until release: AsyncStream<Void>) async throws {
        let logger = harness.logger
        try await harness.endpoint.withConnection(logger: logger) { connection in
            _ = try await connection.query("BEGIN", logger: logger)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT 1 FROM vectorsync.pipelines WHERE pipeline = '\(PipelineHarness.pipeline)' FOR UPDATE"),
                logger: logger)
            for try await _ in rows {}
            held.finish()
            for await _ in release {}
            _ = try await connection.query("COMMIT", logger: logger)
        }
    }
}
