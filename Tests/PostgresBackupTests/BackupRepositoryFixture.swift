import AsyncHTTPClient
import Foundation
import Logging
import ObjectStorage
import PostgresBackup
import TestSupport

/// moto's S3 with an empty bucket, and the built `vectorblocks-backup` as PostgreSQL and a pod run it: flags naming
/// the repository, credentials only in the environment.
struct BackupRepositoryFixture: Sendable {
    let moto: MotoServer
    let http: HTTPClient
    let storage: S3Client
    let program: String
    static let logger = Logger(label: "postgresbackup.test")
    static let credentials = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]

    var settings: RepositorySettings { RepositorySettings(bucket: "backups", region: "eu-west-1", endpoint: moto.endpoint) }

    static func with(_ body: (BackupRepositoryFixture) async throws -> Void) async throws {
        let program = try BuiltProduct.path("vectorblocks-backup")
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
        let storage = S3Client(bucket: "backups", region: "eu-west-1", endpoint: moto.endpoint, credentials: credentials, http: http, logger: logger)
        do {
            try await storage.createBucket()
            try await body(BackupRepositoryFixture(moto: moto, http: http, storage: storage, program: program))
        } catch {
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        try await http.shutdown()
        moto.stop()
    }

    /// `vectorblocks-backup <subcommand> <repository flags> <arguments>` as the server's user, with the credentials.
    func run(_ subcommand: String, _ arguments: [String], as server: PostgresServer) async throws -> ProcessResult {
        try await server.runAsServerUser(program, [subcommand] + settings.arguments + arguments, environment: Self.credentials)
    }

    /// A base backup of `server` (as a standby when it is one) under `prefix`.
    func baseBackup(of server: PostgresServer, prefix: String, walArchivePrefix: String?) async throws -> ProcessResult {
        try await run(
            "base-backup",
            [
                "--host", "127.0.0.1", "--port", "\(server.port)", "--user", "postgres", "--backup-prefix", prefix, "--pg-basebackup",
                server.program("pg_basebackup"),
            ]
                + (server.isStandby ? ["--standby"] : []) + (walArchivePrefix.map { ["--wal-archive-prefix", $0] } ?? []),
            as: server)
    }

    func manifest(_ prefix: String) async throws -> BaseBackupManifest {
        try BaseBackupManifest.decoded(try await storage.getObjectBytes(prefix + BaseBackupManifest.objectName))
    }

    /// Turns continuous archiving on (a restart) with `wal-push` as the archive_command.
    func archiveContinuously(_ server: PostgresServer, walArchivePrefix: String, compression: WALCompression = .gzip) async throws {
        try await server.psql("ALTER SYSTEM SET archive_mode = on")
        try await setArchiveCommand(server, walArchivePrefix: walArchivePrefix, compression: compression)
        try await server.stop()
        try await server.startProcess()
    }

    /// Sets `wal-push` with this compression as the archive_command (taking effect at the next reload).
    func setArchiveCommand(_ server: PostgresServer, walArchivePrefix: String, compression: WALCompression) async throws {
        let command = shellCommand(
            [program, "wal-push"] + settings.arguments + ["--wal-archive-prefix", walArchivePrefix, "--compression", compression.rawValue, "%p"])
        try await server.psql("ALTER SYSTEM SET archive_command = '\(command.replacingOccurrences(of: "'", with: "''"))'")
    }

    /// Ends the current WAL segment and waits until the archiver has stored it.
    func archiveCurrentSegment(_ server: PostgresServer) async throws {
        let segment = try await server.psql("SELECT pg_walfile_name(pg_switch_wal())")
        _ = try await eventually("WAL segment \(segment) to be archived", timeout: .seconds(120)) {
            let archived = try await server.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            return archived >= segment ? true : nil
        }
    }
}
