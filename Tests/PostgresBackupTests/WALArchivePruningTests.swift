import Foundation
import ObjectStorage
import PostgresBackup
import TestSupport
import Testing

/// Pruning a WAL archive to what restores from the kept backups need: by names alone, and against real PostgreSQL
/// servers archiving into moto across a promotion (two timelines), where a point-in-time restore from the kept
/// backup still reaches its target after the pruning.
@Suite("WAL archive pruning")
struct WALArchivePruningTests {
    static let walPrefix = "prod/shop/embeddings/wal_archive/"

    @Test("the archive's file names: segments, partial segments, timeline and backup histories")
    func fileNames() {
        #expect(WALFileName("000000010000000000000002") == .segment("000000010000000000000002"))
        #expect(WALFileName("0000000100000000000000A3.partial")?.segmentName == "0000000100000000000000A3")
        #expect(WALFileName("00000002.history") == .timelineHistory("00000002.history"))
        #expect(WALFileName("000000010000000000000002.00000028.backup") == .backupHistory("000000010000000000000002.00000028.backup"))
        #expect(WALFileName("000000010000000000000002.gz") == .segment("000000010000000000000002"), "a gzip-compressed segment")
        #expect(WALFileName("0000000100000000000000A3.partial.gz")?.segmentName == "0000000100000000000000A3")
        #expect(WALFileName("00000002.history.gz") == .timelineHistory("00000002.history"))
        for other in [
            "000000010000000000000002.gz.gz", "000000010000000000000002.GZ", "00000001000000000000000a", "0000000100000000000002", "00000002.History",
            "archive_status", "000000010000000000000002.tmp",
        ] {
            #expect(WALFileName(other) == nil, "\(other)")
        }
    }

    @Test("before a start on timeline 2: every file of timeline 1, timeline 2's earlier segments; never a history")
    func prunableNames() {
        let names = [
            "000000010000000000000003", "000000010000000000000004.00000060.backup", "000000010000000000000009", "0000000100000000000000A0",
            "00000001000000000000000A.partial", "00000002.history", "00000002000000000000000A", "00000002000000000000000B",
            "00000002000000000000000C", "00000002000000000000000C.00000028.backup", "00000003.history", "000000030000000000000010",
        ]
        #expect(
            WALArchive.prunable(names, before: "00000002000000000000000C") == [
                "000000010000000000000003", "000000010000000000000009", "0000000100000000000000A0", "00000001000000000000000A.partial",
                "00000002000000000000000A", "00000002000000000000000B",
            ])
        // A start on the first timeline keeps every later timeline, whatever its segments' positions.
        #expect(
            WALArchive.prunable(names, before: "0000000100000000000000A0") == [
                "000000010000000000000003", "000000010000000000000009", "00000001000000000000000A.partial",
            ])
    }

    @Test("gzip-compressed files are pruned as their names say, next to plain ones from before compression")
    func prunableCompressedNames() {
        let names = [
            "000000010000000000000003", "000000010000000000000004.gz", "000000010000000000000005.00000060.backup.gz",
            "00000001000000000000000A.partial.gz", "00000002.history.gz", "00000002000000000000000B.gz", "00000002000000000000000C.gz",
            "00000002000000000000000D",
        ]
        #expect(
            WALArchive.prunable(names, before: "00000002000000000000000C") == [
                "000000010000000000000003", "000000010000000000000004.gz", "00000001000000000000000A.partial.gz", "00000002000000000000000B.gz",
            ])
    }

    @Test("pruned to the kept backup's start, the archive still restores that backup to a later time on the new timeline")
    func pruneThenRestoreToATime() async throws {
        try await BackupRepositoryFixture.with { repository in
            let credentials = BackupRepositoryFixture.credentials
            let primary = try await PostgresServer.start(environment: credentials)
            try await repository.archiveContinuously(primary, walArchivePrefix: Self.walPrefix)
            let standby = try await PostgresServer.startStandby(of: primary, environment: credentials)
            try await primary.psql("CREATE TABLE items (id serial PRIMARY KEY, phase text NOT NULL)")
            try await primary.psql("INSERT INTO items (phase) SELECT 'one' FROM generate_series(1, 10)")
            for _ in 0..<2 { try await repository.archiveCurrentSegment(primary) }
            let first = try await repository.baseBackup(of: primary, prefix: "prod/shop/embeddings/first/", walArchivePrefix: Self.walPrefix)
            try #require(first.status == 0, "\(first.output)")
            try await primary.psql("INSERT INTO items (phase) SELECT 'two' FROM generate_series(1, 10)")
            try await repository.archiveCurrentSegment(primary)

            // A failover: the standby, caught up, is promoted onto timeline 2 and archives from then on.
            let written = try await primary.psql("SELECT pg_current_wal_lsn()")
            _ = try await eventually("the standby to replay \(written)") {
                try await standby.psql("SELECT pg_last_wal_replay_lsn() >= '\(written)'::pg_lsn") == "t" ? true : nil
            }
            try await primary.stop()
            _ = try await standby.psql("SELECT pg_promote()")
            _ = try await eventually("the standby to be promoted") { try await standby.psql("SELECT pg_is_in_recovery()") == "f" ? true : nil }
            try await standby.psql("INSERT INTO items (phase) SELECT 'three' FROM generate_series(1, 10)")
            try await repository.archiveCurrentSegment(standby)

            let kept = "prod/shop/embeddings/kept/"
            let second = try await repository.baseBackup(of: standby, prefix: kept, walArchivePrefix: Self.walPrefix)
            try #require(second.status == 0, "\(second.output)")
            let manifest = try await repository.manifest(kept)
            #expect(manifest.timeline == 2)
            try await standby.psql("INSERT INTO items (phase) SELECT 'four' FROM generate_series(1, 10)")
            let target = try await standby.psql(#"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
            try await standby.psql("INSERT INTO items (phase) SELECT 'five' FROM generate_series(1, 10)")
            try await repository.archiveCurrentSegment(standby)
            _ = try await eventually("timeline 2's history to be archived") {
                try await Self.archived(repository).contains("00000002.history.gz") ? true : nil
            }
            try await standby.stop()

            let before = try await Self.archived(repository)
            let archive = WALArchive(storage: repository.storage, prefix: Self.walPrefix, logger: BackupRepositoryFixture.logger)
            let pruned = try await archive.prune(before: manifest.startWAL)
            let after = try await Self.archived(repository)
            #expect(pruned.contains { $0.hasPrefix("00000001") } && pruned.contains { $0.hasPrefix("00000002") }, "\(pruned) of \(before)")
            #expect(Set(after) == Set(before).subtracting(pruned), "only what prune names goes")
            // wal-push compresses by default: every file is stored as `<name>.gz`.
            #expect(after.allSatisfy { $0.hasSuffix(".gz") }, "\(after)")
            #expect(after.contains("00000002.history.gz") && after.contains(manifest.startWAL + ".gz"), "\(after)")
            for name in after {
                if let segment = WALFileName(name)?.segmentName { #expect(segment >= manifest.startWAL, "\(name) is before \(manifest.startWAL)") }
            }
            #expect(try await archive.prune(before: manifest.startWAL) == [], "a second pass finds nothing")

            let restored = try await PostgresServer.unstarted(like: standby, environment: credentials)
            let result = try await repository.run(
                "restore", ["--backup-prefix", kept, "--pgdata", restored.dataDirectory, "--target-time", target], as: restored)
            try #require(result.status == 0, "\(result.output)")
            try await restored.startProcess()
            _ = try await eventually("the restored server to finish recovery") {
                try await restored.psql("SELECT pg_is_in_recovery()") == "f" ? true : nil
            }
            let counts = try await restored.psql(
                "SELECT string_agg(phase || '=' || n, ',' ORDER BY phase) FROM (SELECT phase, count(*) AS n FROM items GROUP BY phase) c")
            #expect(counts == "four=10,one=10,three=10,two=10", "\(restored.recentLog())")
            try await restored.stop()
        }
    }

    /// The names in the archive, in key order.
    static func archived(_ repository: BackupRepositoryFixture) async throws -> [String] {
        try await repository.storage.listObjects(prefix: walPrefix).map { String($0.key.dropFirst(walPrefix.count)) }
    }
}
