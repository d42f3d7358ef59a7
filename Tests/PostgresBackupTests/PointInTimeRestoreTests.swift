import Foundation
import ObjectStorage
import PostgresBackup
import TestSupport
import Testing

/// The pgvector backup path against real PostgreSQL servers and moto's S3, through the built vectorblocks-backup as
/// PostgreSQL runs it: a base backup streamed from a standby, WAL archived by archive_command, and restores to the
/// backup's end and to a time after it. (A server left running when a check fails is stopped when it is released.)
@Suite("PostgreSQL base backups, WAL archive and point-in-time restore")
struct PointInTimeRestoreTests {
    static let backupPrefix = "prod/shop/embeddings/nightly/"
    static let walPrefix = "prod/shop/embeddings/wal_archive/"

    @Test("rows written before the target time are restored and none after; the backup alone restores its own state")
    func restoreToATime() async throws {
        try await BackupRepositoryFixture.with { repository in
            // The archive_command's keys come from the server's environment, as in a pod.
            let primary = try await PostgresServer.start(environment: BackupRepositoryFixture.credentials)
            try await repository.archiveContinuously(primary, walArchivePrefix: Self.walPrefix)
            let standby = try await PostgresServer.startStandby(of: primary)
            try await primary.psql("CREATE TABLE items (id serial PRIMARY KEY, phase text NOT NULL, embedding vector(3))")
            try await primary.psql("INSERT INTO items (phase, embedding) SELECT 'before', '[1,2,3]' FROM generate_series(1, 100)")
            let written = try await primary.psql("SELECT pg_current_wal_lsn()")
            _ = try await eventually("the standby to replay \(written)") {
                try await standby.psql("SELECT pg_last_wal_replay_lsn() >= '\(written)'::pg_lsn") == "t" ? true : nil
            }

            let backup = try await repository.baseBackup(of: standby, prefix: Self.backupPrefix, walArchivePrefix: Self.walPrefix)
            #expect(backup.status == 0, "\(backup.output)")
            let manifest = try await repository.manifest(Self.backupPrefix)
            #expect(manifest.fromStandby)
            #expect(manifest.timeline == 1)
            #expect(WALPosition(manifest.startLSN)! <= WALPosition(manifest.endLSN)!)
            #expect(manifest.walArchivePrefix == Self.walPrefix)
            let stored = try await repository.storage.listObjects(prefix: Self.backupPrefix)
            #expect(stored.first { $0.key.hasSuffix("base.tar") }?.size == manifest.size)

            try await primary.psql("INSERT INTO items (phase) SELECT 'after-backup' FROM generate_series(1, 50)")
            let target = try await primary.psql(
                #"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
            try await primary.psql("INSERT INTO items (phase) SELECT 'too-late' FROM generate_series(1, 25)")
            try await repository.archiveCurrentSegment(primary)
            try await standby.stop()

            let atTime = try await Self.restore(repository, like: primary, arguments: ["--target-time", target])
            #expect(try await Self.counts(atTime) == "after-backup=50,before=100")
            // A promoted restore writes on a new timeline.
            #expect(try await atTime.psql("SELECT pg_walfile_name(pg_current_wal_lsn())").hasPrefix("00000002"))
            try await atTime.psql("INSERT INTO items (phase) VALUES ('restored')")
            try await atTime.stop()

            let atBackup = try await Self.restore(repository, like: primary, arguments: [])
            #expect(try await Self.counts(atBackup) == "before=100")
            try await atBackup.stop()
            try await primary.stop()
        }
    }

    /// A new server filled by `vectorblocks-backup restore`, started, and out of recovery.
    static func restore(
        _ repository: BackupRepositoryFixture, like source: PostgresServer, backupPrefix: String = Self.backupPrefix, arguments: [String]
    ) async throws -> PostgresServer {
        let server = try await PostgresServer.unstarted(like: source, environment: BackupRepositoryFixture.credentials)
        let restored = try await repository.run(
            "restore", ["--backup-prefix", backupPrefix, "--pgdata", server.dataDirectory] + arguments, as: server)
        try #require(restored.status == 0, "\(restored.output)")
        try await server.startProcess()
        _ = try await eventually("the restored server to finish recovery") {
            try await server.psql("SELECT pg_is_in_recovery()") == "f" ? true : nil
        }
        return server
    }

    static func counts(_ server: PostgresServer) async throws -> String {
        try await server.psql("SELECT string_agg(phase || '=' || n, ',' ORDER BY phase) FROM (SELECT phase, count(*) AS n FROM items GROUP BY phase) c")
    }
}
