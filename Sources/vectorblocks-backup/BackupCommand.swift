import ArgumentParser
import Foundation
import Logging
import PostgresBackup

#if canImport(Glibc)
import Glibc
#endif

/// vectorblocks-backup: moves a pgvector cluster's bytes to and from S3 in the cluster's own pods (a backup Job,
/// archive_command, restore_command, a restoring primary). Flags have VB_BACKUP_* environment fallbacks, so
/// PostgreSQL's commands stay short; credentials come only from the environment.
@main
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-backup",
        abstract: "Streams PostgreSQL base backups and WAL to and from S3.",
        subcommands: [BaseBackupCommand.self, WALPushCommand.self, WALFetchCommand.self, RestoreCommand.self, InstallCommand.self])
}

let environment = ProcessInfo.processInfo.environment

struct RepositoryOptions: ParsableArguments {
    @Option(help: "The bucket (env VB_BACKUP_BUCKET).")
    var bucket: String = environment["VB_BACKUP_BUCKET"] ?? ""

    @Option(help: "The bucket's region (env VB_BACKUP_REGION).")
    var region: String = environment["VB_BACKUP_REGION"] ?? ""

    @Option(help: "An S3-compatible endpoint, path-style; empty for AWS (env VB_BACKUP_ENDPOINT).")
    var endpoint: String = environment["VB_BACKUP_ENDPOINT"] ?? ""

    func validate() throws {
        if bucket.isEmpty { throw ValidationError("--bucket (or VB_BACKUP_BUCKET) is required") }
        if region.isEmpty { throw ValidationError("--region (or VB_BACKUP_REGION) is required") }
    }

    var settings: RepositorySettings { RepositorySettings(bucket: bucket, region: region, endpoint: endpoint.isEmpty ? nil : endpoint) }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        return logger
    }
}

/// Prints the failure and exits 1; Kubernetes shows the last line as the container's termination message.
func failing<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let failure as BackupFailure {
        FileHandle.standardError.write(Data("vectorblocks-backup: \(failure.description)\n".utf8))
        if FileManager.default.isWritableFile(atPath: "/dev/termination-log") {
            try? failure.description.write(toFile: "/dev/termination-log", atomically: false, encoding: .utf8)
        }
        throw ExitCode(1)
    }
}

struct BaseBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "base-backup", abstract: "pg_basebackup's tar, streamed into S3 as it is made, then the manifest.")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The server to copy (a streaming standby when there is one).")
    var host: String

    @Option var port: Int = 5432

    @Option(help: "A user with the REPLICATION attribute; the password comes from PGPASSWORD or PGPASSFILE.")
    var user: String = "postgres"

    @Flag(help: "The server is a streaming standby (recorded in the manifest).")
    var standby = false

    @Option(help: "A standby's primary, asked for a CHECKPOINT first so the backup starts at once.")
    var primaryHost: String?

    @Option(help: "The backup's key prefix, ending in '/'.")
    var backupPrefix: String

    @Option(help: "The cluster's WAL archive prefix when it archives continuously (recorded for point-in-time recovery).")
    var walArchivePrefix: String?

    @Option(help: "pg_basebackup's path.")
    var pgBasebackup: String = "pg_basebackup"

    @Option(help: "The multipart upload's part size in MiB: a backup can be 10,000 parts.")
    var partSizeMib: Int = 32

    @Option(help: "The backup label PostgreSQL records.")
    var label: String = "vectorblocks"

    func run() async throws {
        let logger = repository.logger("vectorblocks.backup")
        try await failing {
            let upload = BaseBackupUpload(
                source: PostgresSource(host: host, port: port, user: user, isStandby: standby, primaryHost: primaryHost),
                storage: try repository.settings.client(environment: environment, logger: logger), backupPrefix: backupPrefix,
                walArchivePrefix: walArchivePrefix, pgBasebackup: pgBasebackup, partSize: max(5, partSizeMib) << 20, label: label, logger: logger)
            let manifest = try await upload.run()
            print(String(decoding: try manifest.encoded(), as: UTF8.self))
        }
    }
}

struct WALPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push", abstract: "archive_command: stores one WAL file (%p) in the archive, gzip-compressed by default.")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The cluster's WAL archive prefix, ending in '/' (env VB_BACKUP_WAL_PREFIX).")
    var walArchivePrefix: String = environment["VB_BACKUP_WAL_PREFIX"] ?? ""

    @Option(help: "gzip (level 1, stored as <name>.gz) or none (env VB_BACKUP_WAL_COMPRESSION).")
    var compression: String = environment["VB_BACKUP_WAL_COMPRESSION"] ?? WALCompression.gzip.rawValue

    @Argument(help: "The file, as %p gives it.")
    var path: String

    func validate() throws {
        if WALCompression(rawValue: compression) == nil {
            throw ValidationError("--compression (or VB_BACKUP_WAL_COMPRESSION): \"\(compression)\" is neither gzip nor none")
        }
    }

    func run() async throws {
        let logger = repository.logger("vectorblocks.wal-push")
        try await failing {
            guard !walArchivePrefix.isEmpty else { throw BackupFailure("--wal-archive-prefix (or VB_BACKUP_WAL_PREFIX) is required") }
            try await WALArchive(
                storage: try repository.settings.client(environment: environment, logger: logger), prefix: walArchivePrefix,
                compression: WALCompression(rawValue: compression) ?? .gzip, logger: logger
            ).push(path)
        }
    }
}

struct WALFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "restore_command: fetches one WAL file (%f) to %p, gzip-compressed or not; exit 1 when the archive lacks it.")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The WAL archive prefix, ending in '/' (env VB_BACKUP_WAL_PREFIX).")
    var walArchivePrefix: String = environment["VB_BACKUP_WAL_PREFIX"] ?? ""

    @Argument(help: "The file's name, as %f gives it.")
    var name: String

    @Argument(help: "Where to write it, as %p gives it.")
    var destination: String

    func run() async throws {
        let logger = repository.logger("vectorblocks.wal-fetch")
        let result = try await failing {
            guard !walArchivePrefix.isEmpty else { throw BackupFailure("--wal-archive-prefix (or VB_BACKUP_WAL_PREFIX) is required") }
            return try await WALArchive(
                storage: try repository.settings.client(environment: environment, logger: logger), prefix: walArchivePrefix, logger: logger
            ).fetch(name, to: destination)
        }
        if result == .absent { throw ExitCode(1) }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Fills an empty data directory from a base backup and sets up recovery (to a time, with --target-time).")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The backup's key prefix, ending in '/'.")
    var backupPrefix: String

    @Option(help: "The data directory to fill; it must be empty or absent.")
    var pgdata: String

    @Option(help: "Replay the WAL archive up to this RFC 3339 time (2026-12-03T19:00:00Z), then promote.")
    var targetTime: String?

    @Option(help: "This program's path as PostgreSQL's restore_command runs it.")
    var selfPath: String = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

    func run() async throws {
        let logger = repository.logger("vectorblocks.restore")
        let target: RecoveryTarget
        if let targetTime {
            guard let date = BaseBackupManifest.parseTimestamp(targetTime) else {
                throw ValidationError("--target-time: \"\(targetTime)\" is not an RFC 3339 time such as 2026-12-03T19:00:00Z")
            }
            target = .time(date)
        } else {
            target = .backupEnd
        }
        let settings = repository.settings
        let program = selfPath
        try await failing {
            let restore = BaseBackupRestore(
                storage: try settings.client(environment: environment, logger: logger), backupPrefix: backupPrefix, dataDirectory: pgdata,
                target: target,
                restoreCommand: { shellCommand([program, "wal-fetch"] + settings.arguments + ["--wal-archive-prefix", $0, "%f", "%p"]) },
                logger: logger)
            let manifest = try await restore.run()
            print(String(decoding: try manifest.encoded(), as: UTF8.self))
        }
    }
}

struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Copies this program into a directory (an init container fills the emptyDir the PostgreSQL container runs it from).")

    @Argument(help: "The directory.")
    var directory: String

    func run() async throws {
        let source = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let target = directory + "/vectorblocks-backup"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
        print("installed \(target)")
    }
}
