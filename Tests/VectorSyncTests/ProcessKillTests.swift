import Foundation
import TestSupport
import Testing

@testable import VectorSync

/// The `pelican` and `emu` executables, run as their pods run them and killed with SIGKILL at the worst moments:
/// during the backfill, during streaming, and with a batch in Emu's hands; then PostgreSQL itself is killed and
/// restarted under them. After each, every change made meanwhile arrives, and the sink holds each source row once,
/// with the vector of its current text.
@Suite("Pelican and Emu processes killed and PostgreSQL restarted")
struct ProcessKillTests {
    static let rows: Int64 = 4_000

    func startPelican(_ harness: PipelineHarness) throws -> BackgroundProgram {
        // Small transactions make the backfill long enough to be interrupted.
        try BackgroundProgram.start("pelican", harness.sourceArguments + ["--batch-size", "50", "--http-port", "0"])
    }

    func startEmu(_ harness: PipelineHarness) throws -> BackgroundProgram {
        try BackgroundProgram.start(
            "emu",
            ["run"] + harness.sourceArguments + [
                "--dimension", "\(PipelineHarness.dimension)", "--pgvector-table", "vectors.products", "--batch-size", "64",
                "--visibility-timeout", "3", "--http-port", "0",
            ])
    }

    func backfill(_ harness: PipelineHarness) async throws -> (rows: Int64, done: Bool) {
        let rows = try await harness.scalar("SELECT coalesce(max(backfilled_rows), 0) FROM vectorsync.pipelines WHERE pipeline = '\(PipelineHarness.pipeline)'")
        let done = try await harness.scalar("SELECT count(*) FROM vectorsync.pipelines WHERE pipeline = '\(PipelineHarness.pipeline)' AND backfill_done")
        return (rows, done > 0)
    }

    /// Waits until Emu has received messages it has not yet acknowledged.
    func waitUntilEmuHoldsABatch(_ harness: PipelineHarness, pelican: BackgroundProgram, emu: BackgroundProgram) async throws {
        do {
            try await waitFor("Emu to hold a batch") {
                try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE receive_count > 0") > 0
            }
        } catch {
            try await recordState(harness, pelican: pelican, emu: emu)
            throw error
        }
    }

    /// Records the outbox, the jobs and both programs' last words, for a step that did not happen.
    func recordState(_ harness: PipelineHarness, pelican: BackgroundProgram, emu: BackgroundProgram) async throws {
        let outbox = try await harness.scalar("SELECT count(*) FROM vectorsync.outbox")
        let jobs = try await harness.scalar("SELECT count(*) FROM vectorsync.jobs")
        let received = try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE receive_count > 0")
        Issue.record(
            "\(outbox) in the outbox, \(jobs) jobs (\(received) received before); pelican (running: \(pelican.isRunning)):\n\(pelican.output.suffix(3000))\nemu (running: \(emu.isRunning)):\n\(emu.output.suffix(3000))"
        )
    }

    func changeRows(_ harness: PipelineHarness, round: Int64) async throws {
        let base = Self.rows + round * 1_000
        try await harness.insertProducts((base + 1)...(base + 40))
        try await harness.execute("UPDATE products SET description = 'changed in round \(round) ' || id WHERE id % 97 = \(round)")
        try await harness.execute("DELETE FROM products WHERE id % 89 = \(round)")
    }

    func expectOneVectorPerRow(_ harness: PipelineHarness) async throws {
        try await harness.waitUntilSinkMatchesSource()
        #expect(try await harness.scalar("SELECT count(*) FROM vectors.products") == (try await harness.scalar("SELECT count(*) FROM products")))
        #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.dead_letters") == 0)
    }

    @Test func nothingIsLostOrDoubledWhenTheProcessesAndTheDatabaseDie() async throws {
        try await PipelineHarness.with(rows: Self.rows) { harness in
            var emu = try startEmu(harness)
            var pelican = try startPelican(harness)

            // 1. Pelican dies part-way through the backfill; rows change while it is down.
            let interrupted = try await BackfillGate(harness: harness).whilePelicanIsHeldAfterOneBatch {
                await pelican.kill()
                return try await backfill(harness)
            }
            #expect(!interrupted.done && interrupted.rows < Self.rows, "the backfill finished before it could be interrupted: \(interrupted)")
            try await changeRows(harness, round: 1)
            pelican = try startPelican(harness)
            try await waitFor("the backfill to finish") { try await backfill(harness).done }

            // 2. Pelican dies while streaming, with changes in the outbox; more arrive while it is down.
            try await changeRows(harness, round: 2)
            await pelican.kill()
            try await changeRows(harness, round: 3)
            pelican = try startPelican(harness)
            try await expectOneVectorPerRow(harness)

            // 3. Emu dies with a batch received and not yet acknowledged; it is received again after the visibility timeout.
            try await harness.execute("UPDATE products SET description = 'for the batch in hand ' || id WHERE id <= 2000")
            try await waitUntilEmuHoldsABatch(harness, pelican: pelican, emu: emu)
            await emu.kill()
            try await changeRows(harness, round: 4)
            emu = try startEmu(harness)
            try await expectOneVectorPerRow(harness)

            // 4. PostgreSQL is killed and restarted under both, with Emu's batches in flight; they reconnect and
            // carry on. (A statement sent on a connection the server had closed once waited forever: GuardedQuery.swift.)
            try await harness.execute("UPDATE products SET description = 'in flight at the restart ' || id WHERE id <= 3000")
            try await waitUntilEmuHoldsABatch(harness, pelican: pelican, emu: emu)
            try await harness.server.kill()
            try await harness.server.startProcess()
            try await changeRows(harness, round: 5)
            do {
                try await expectOneVectorPerRow(harness)
            } catch {
                try await recordState(harness, pelican: pelican, emu: emu)
                throw error
            }
            #expect(pelican.isRunning && emu.isRunning, "pelican:\n\(pelican.output)\nemu:\n\(emu.output)")
            await pelican.kill()
            await emu.kill()
        }
    }

    /// SIGTERM, as the kubelet stops a pod: both programs exit cleanly while changes stream, leave no message
    /// invisible behind them, and their successors carry on from where they stopped.
    @Test func aSIGTERMStopsBothProgramsCleanly() async throws {
        try await PipelineHarness.with(rows: 2_000) { harness in
            var emu = try startEmu(harness)
            var pelican = try startPelican(harness)
            try await expectOneVectorPerRow(harness)
            try await harness.execute("UPDATE products SET description = 'before the stop ' || id")
            try await waitUntilEmuHoldsABatch(harness, pelican: pelican, emu: emu)
            let emuStatus = await emu.terminate()
            let pelicanStatus = await pelican.terminate()
            #expect(emuStatus == 0, "emu:\n\(emu.output.suffix(3000))")
            #expect(pelicanStatus == 0, "pelican:\n\(pelican.output.suffix(3000))")
            #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.jobs WHERE visible_at > clock_timestamp()") == 0)
            try await changeRows(harness, round: 1)
            emu = try startEmu(harness)
            pelican = try startPelican(harness)
            try await expectOneVectorPerRow(harness)
            await pelican.kill()
            await emu.kill()
        }
    }
}
