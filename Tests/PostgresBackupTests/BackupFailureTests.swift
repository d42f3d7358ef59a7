import Foundation
import ObjectStorage
import PostgresBackup
import TestSupport
import Testing

@Suite("PostgreSQL backups and restores that cannot succeed say why")
struct BackupFailureTests {
    static let prefix = "shop/embeddings/b1/"

    @Test("a damaged base archive or a missing manifest fails the restore with a message, and the data directory stays empty")
    func damagedOrMissingBackup() async throws {
        try await BackupRepositoryFixture.with { repository in
            let primary = try await PostgresServer.start()
            try await primary.psql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS n")
            let backup = try await repository.baseBackup(of: primary, prefix: Self.prefix, walArchivePrefix: nil)
            try #require(backup.status == 0, "\(backup.output)")
            let manifest = try await repository.manifest(Self.prefix)
            #expect(!manifest.fromStandby)

            // One byte changed in the middle of the archive.
            var bytes = try await repository.storage.getObjectBytes(Self.prefix + "base.tar", upTo: 1 << 30)
            bytes[bytes.count / 2] ^= 0xFF
            try await repository.storage.putObject(Self.prefix + "base.tar", bytes: bytes)
            let damaged = try await PostgresServer.unstarted(like: primary)
            let refused = try await repository.run("restore", ["--backup-prefix", Self.prefix, "--pgdata", damaged.dataDirectory], as: damaged)
            #expect(refused.status == 1)
            #expect(refused.output.contains("base.tar is damaged"), "\(refused.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: damaged.dataDirectory).isEmpty)

            try await repository.storage.deleteObjects([Self.prefix + "manifest.json"])
            let missing = try await repository.run("restore", ["--backup-prefix", Self.prefix, "--pgdata", damaged.dataDirectory], as: damaged)
            #expect(missing.status == 1)
            #expect(missing.output.contains("manifest.json does not exist: the backup is missing or was never completed"), "\(missing.output)")

            // A point in time needs the archive, and a time after the backup.
            try await repository.storage.putObject(Self.prefix + "manifest.json", bytes: try manifest.encoded())
            let early = try await repository.run(
                "restore", ["--backup-prefix", Self.prefix, "--pgdata", damaged.dataDirectory, "--target-time", "2001-01-01T00:00:00Z"], as: damaged)
            #expect(early.output.contains("is before this backup ended"), "\(early.output)")
            try await primary.stop()
        }
    }

    @Test("a base backup of a server that does not answer fails naming pg_basebackup's error and stores nothing")
    func unreachableServer() async throws {
        try await BackupRepositoryFixture.with { repository in
            let server = try await PostgresServer.start()
            try await server.stop()
            let backup = try await repository.baseBackup(of: server, prefix: Self.prefix, walArchivePrefix: nil)
            #expect(backup.status == 1)
            #expect(backup.output.contains("pg_basebackup from 127.0.0.1:\(server.port) failed with exit status 1"), "\(backup.output)")
            #expect(try await repository.storage.listObjects(prefix: Self.prefix).isEmpty)
        }
    }

    @Test("wal-push refuses to overwrite a segment archived with other content, accepts the same again; wal-fetch exits 1 for an absent file")
    func archiveRules() async throws {
        try await BackupRepositoryFixture.with { repository in
            let server = try await PostgresServer.start()
            let directory = try TemporaryDirectory()
            let segment = directory.path + "/000000010000000000000007"
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: segment))
            _ = try await run("/bin/chmod", ["-R", "a+rwx", directory.path])
            let prefix = ["--wal-archive-prefix", "shop/embeddings/wal_archive/"]
            #expect(try await repository.run("wal-push", prefix + [segment], as: server).status == 0)
            #expect(try await repository.run("wal-push", prefix + [segment], as: server).status == 0)
            let stored = try await repository.storage.listObjects(prefix: "shop/embeddings/wal_archive/")
            #expect(stored.map(\.key) == ["shop/embeddings/wal_archive/000000010000000000000007.gz"], "gzip by default")
            #expect((stored.first?.size ?? 4096) < 4096)
            let otherForm = try await repository.run("wal-push", prefix + ["--compression", "none", segment], as: server)
            #expect(otherForm.status == 0, "the same content archived in the other form: \(otherForm.output)")
            try Data(repeating: 8, count: 4096).write(to: URL(fileURLWithPath: segment))
            for compression in ["gzip", "none"] {
                let overwrite = try await repository.run("wal-push", prefix + ["--compression", compression, segment], as: server)
                #expect(overwrite.status == 1)
                #expect(overwrite.output.contains("archived already with different content"), "\(overwrite.output)")
            }
            #expect(try await repository.storage.listObjects(prefix: "shop/embeddings/wal_archive/").count == 1)
            let unknown = try await repository.run("wal-push", prefix + ["--compression", "zstd", segment], as: server)
            #expect(unknown.status != 0 && unknown.output.contains("neither gzip nor none"), "\(unknown.output)")

            let fetched = directory.path + "/fetched"
            #expect(try await repository.run("wal-fetch", prefix + ["000000010000000000000007", fetched], as: server).status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: fetched)) == Data(repeating: 7, count: 4096))
            let absent = try await repository.run("wal-fetch", prefix + ["00000002.history", directory.path + "/history"], as: server)
            #expect(absent.status == 1)
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/history"))
            try await server.stop()
        }
    }
}
