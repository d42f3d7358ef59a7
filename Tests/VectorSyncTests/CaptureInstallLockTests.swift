import PipelineFixtures
import PostgresNIO
import TestSupport
import Testing

@testable import VectorSync

/// Pelican installs its trigger on a table the application keeps writing to; a write that comes in while the install
/// waits must not deadlock with it (CI saw `40P01` between a product insert and a starting Pelican).
@Suite("Capture install beside application writes")
struct CaptureInstallLockTests {
    @Test func aWriteInTheMiddleOfAnInstallWaitsForItInsteadOfDeadlocking() async throws {
        try await PipelineHarness.with { harness in
            let pipeline = try SQLIdentifier(PipelineHarness.pipeline, field: "pipeline")
            try await harness.endpoint.withConnection(logger: harness.logger) { connection in
                _ = try await CaptureSchema.install(pipeline: pipeline, source: harness.source, connection: connection, logger: harness.logger)
            }
            try await harness.endpoint.withConnection(logger: harness.logger) { application in
                // The application's transaction holds the table, as a write that has not reached its trigger yet.
                try await application.run("BEGIN", harness)
                try await application.run("LOCK TABLE products IN ROW EXCLUSIVE MODE", harness)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await harness.endpoint.withConnection(logger: harness.logger) { connection in
                            _ = try await CaptureSchema.install(
                                pipeline: pipeline, source: harness.source, connection: connection, logger: harness.logger)
                        }
                    }
                    try await eventually("the install to wait for the application's lock on products") {
                        try await harness.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'products'::regclass") == 1
                    }
                    // The trigger now writes the outbox: this is where an install holding the outbox deadlocked.
                    try await harness.catalog.insert(ProductCatalog.products(1...1), application, logger: harness.logger)
                    try await application.run("COMMIT", harness)
                    try await group.waitForAll()
                }
            }
            #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.outbox WHERE pk = '1' AND op = 'insert'") == 1)
        }
    }
}

extension PostgresConnection {
    fileprivate func run(_ sql: String, _ harness: PipelineHarness) async throws {
        _ = try await query(PostgresQuery(unsafeSQL: sql), logger: harness.logger)
    }
}
