import Foundation
import ObjectStorage
import PostgresBackup
import TestSupport
import Testing

/// wal-push's gzip compression: zlib's round trip, and an archive written partly before compression (plain objects)
/// and partly after (`.gz`) by real PostgreSQL into moto, from which a point-in-time restore replays both.
@Suite("WAL compression")
struct WALCompressionTests {
    static let backupPrefix = "prod/shop/embeddings/mixed/"
    static let walPrefix = "prod/shop/embeddings/wal_archive/"
    static let segmentSize = 16 << 20

    @Test("gzip round trip; data cut short, damaged, followed by junk or inflating past the limit is refused")
    func gzipRoundTrip() throws {
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: ($0 / 64) &* 7) }
        let compressed = try Gzip.compress(bytes)
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b], "a gzip member")
        #expect(compressed.count < bytes.count / 10)
        #expect(try Gzip.decompress(compressed, limit: bytes.count) == bytes)
        #expect(try Gzip.decompress(try Gzip.compress([]), limit: 0) == [])
        var damaged = compressed
        damaged[compressed.count / 2] ^= 0xff
        for refused in [Array(compressed.dropLast(8)), damaged, compressed + [1, 2, 3], Array(compressed.prefix(5))] {
            #expect(throws: BackupFailure.self) { try Gzip.decompress(refused, limit: bytes.count) }
        }
        #expect(throws: BackupFailure.self) { try Gzip.decompress(compressed, limit: bytes.count - 1) }
    }

    @Test("wal-push and wal-fetch with only IRSA's variables (a pod under the backup ServiceAccount) go through moto's STS")
    func webIdentity() async throws {
        try await BackupRepositoryFixture.with { repository in
            let server = try await PostgresServer.start()
            let directory = try TemporaryDirectory()
            let tokenFile = directory.path + "/token"
            try "eyJhbGciOiJSUzI1NiJ9.backup.pod".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let segment = directory.path + "/000000010000000000000009"
            try Data(repeating: 9, count: 1 << 16).write(to: URL(fileURLWithPath: segment))
            _ = try await run("/bin/chmod", ["-R", "a+rwx", directory.path])
            let irsa = [
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/vectorblocks-backups", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
                "AWS_ENDPOINT_URL_STS": repository.moto.endpoint, "AWS_REGION": "eu-west-1",
            ]
            let prefix = repository.settings.arguments + ["--wal-archive-prefix", Self.walPrefix]
            let pushed = try await server.runAsServerUser(repository.program, ["wal-push"] + prefix + [segment], environment: irsa)
            #expect(pushed.status == 0, "\(pushed.output)")
            let fetched = try await server.runAsServerUser(
                repository.program, ["wal-fetch"] + prefix + ["000000010000000000000009", directory.path + "/fetched"], environment: irsa)
            #expect(fetched.status == 0, "\(fetched.output)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/fetched")) == Data(repeating: 9, count: 1 << 16))
            let missingToken = try await server.runAsServerUser(
                repository.program, ["wal-push"] + prefix + [segment],
                environment: irsa.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": directory.path + "/absent"]) { $1 })
            #expect(missingToken.status != 0 && missingToken.output.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "\(missingToken.output)")
            try await server.stop()
        }
    }

    @Test("plain segments archived before compression and gzip ones after both replay in a restore to a time")
    func restoreFromAMixedArchive() async throws {
        try await BackupRepositoryFixture.with { repository in
            let primary = try await PostgresServer.start(environment: BackupRepositoryFixture.credentials)
            try await repository.archiveContinuously(primary, walArchivePrefix: Self.walPrefix, compression: .none)
            try await primary.psql("CREATE TABLE items (id serial PRIMARY KEY, phase text NOT NULL, embedding vector(3))")
            try await primary.psql("INSERT INTO items (phase, embedding) SELECT 'before', '[1,2,3]' FROM generate_series(1, 100)")
            try await repository.archiveCurrentSegment(primary)
            let backup = try await repository.baseBackup(of: primary, prefix: Self.backupPrefix, walArchivePrefix: Self.walPrefix)
            try #require(backup.status == 0, "\(backup.output)")

            try await repository.setArchiveCommand(primary, walArchivePrefix: Self.walPrefix, compression: .gzip)
            _ = try await primary.psql("SELECT pg_reload_conf()")
            try await primary.psql(
                "INSERT INTO items (phase, embedding) SELECT 'after-backup', ARRAY[i, i * 2, i * 3]::vector FROM generate_series(1, 5000) i")
            let target = try await primary.psql(#"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
            try await primary.psql("INSERT INTO items (phase) SELECT 'too-late' FROM generate_series(1, 25)")
            // The archiver reads the new archive_command at its next loop: archive until a segment is stored compressed.
            let compressed = try await eventually("a WAL segment archived with gzip", timeout: .seconds(120)) {
                () -> ([S3Client.ObjectSummary], [S3Client.ObjectSummary])? in
                try await repository.archiveCurrentSegment(primary)
                let objects = try await repository.storage.listObjects(prefix: Self.walPrefix)
                let segments = objects.filter { $0.key.hasSuffix(".gz") && WALFileName(String($0.key.dropFirst(Self.walPrefix.count))) != nil }
                if segments.isEmpty { try await primary.psql("INSERT INTO items (phase) VALUES ('too-late')") }
                return segments.isEmpty ? nil : (objects, segments)
            }
            let plain = compressed.0.filter { object in
                if case .segment = WALFileName(String(object.key.dropFirst(Self.walPrefix.count))) { return !object.key.hasSuffix(".gz") }
                return false
            }
            #expect(!plain.isEmpty, "segments from before compression stay plain: \(compressed.0.map(\.key))")
            #expect(plain.allSatisfy { $0.size == Int64(Self.segmentSize) })
            for segment in compressed.1 {
                #expect(segment.size < Int64(Self.segmentSize), "\(segment.key) is \(segment.size) bytes")
            }

            let archive = WALArchive(storage: repository.storage, prefix: Self.walPrefix, logger: BackupRepositoryFixture.logger)
            let directory = try TemporaryDirectory()
            let name = String(compressed.1[0].key.dropFirst(Self.walPrefix.count).dropLast(WALCompression.gzipSuffix.count))
            #expect(try await archive.fetch(name, to: directory.path + "/segment") == .fetched(bytes: Self.segmentSize))

            let restored = try await PointInTimeRestoreTests.restore(
                repository, like: primary, backupPrefix: Self.backupPrefix, arguments: ["--target-time", target])
            #expect(try await PointInTimeRestoreTests.counts(restored) == "after-backup=5000,before=100")
            try await restored.stop()
            try await primary.stop()
        }
    }
}
