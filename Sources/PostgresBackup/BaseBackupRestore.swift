import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import ObjectStorage

#if canImport(Glibc)
import Glibc
#endif

/// Fills an empty data directory from a base backup in S3, streamed into tar (checked against the manifest's size
/// and SHA-256), and sets it up to recover: to the backup's end, or through the WAL archive to a target time, then
/// promoted. It never writes into a data directory that holds anything: a restore makes new data, it does not
/// replace someone's.
public struct BaseBackupRestore: Sendable {
    public var storage: S3Client
    /// The backup's key prefix, ending in `/`.
    public var backupPrefix: String
    public var dataDirectory: String
    public var target: RecoveryTarget
    /// The `restore_command` PostgreSQL runs to fetch a WAL file (`%f` to `%p`) from the manifest's archive.
    public var restoreCommand: @Sendable (_ walArchivePrefix: String) -> String
    public var tar: String
    public var logger: Logger

    public init(
        storage: S3Client, backupPrefix: String, dataDirectory: String, target: RecoveryTarget,
        restoreCommand: @escaping @Sendable (String) -> String, tar: String = "/bin/tar", logger: Logger
    ) {
        self.storage = storage
        self.backupPrefix = backupPrefix
        self.dataDirectory = dataDirectory
        self.target = target
        self.restoreCommand = restoreCommand
        self.tar = tar
        self.logger = logger
    }

    public func manifest() async throws -> BaseBackupManifest {
        let key = backupPrefix + BaseBackupManifest.objectName
        let bytes: [UInt8]
        do {
            bytes = try await storage.getObjectBytes(key)
        } catch let error as S3Error where error.status == 404 {
            throw BackupFailure("s3://\(storage.bucket)/\(key) does not exist: the backup is missing or was never completed")
        }
        do {
            return try BaseBackupManifest.decoded(bytes)
        } catch {
            throw BackupFailure("s3://\(storage.bucket)/\(key) is not a backup manifest: \(error)")
        }
    }

    @discardableResult
    public func run() async throws -> BaseBackupManifest {
        let manifest = try await manifest()
        if case .time(let date) = target {
            guard date >= manifest.endTime else {
                throw BackupFailure(
                    "the target time \(BaseBackupManifest.timestamp(date)) is before this backup ended (\(BaseBackupManifest.timestamp(manifest.endTime))): restore from a backup taken before it"
                )
            }
            guard manifest.walArchivePrefix != nil else {
                throw BackupFailure("the backup's cluster did not archive its WAL (spec.backup.pitrEnabled was off), so it restores only to its own end")
            }
        }
        try prepareEmptyDirectory()
        do {
            try await extract(manifest)
            try configureRecovery(manifest)
        } catch {
            // Only what this restore extracted is removed: the directory was empty.
            clearDirectory()
            throw error
        }
        logger.info("restored", metadata: ["backup": "\(backupPrefix)", "dataDirectory": "\(dataDirectory)", "end": "\(manifest.endLSN)"])
        return manifest
    }

    private func prepareEmptyDirectory() throws {
        let files = FileManager.default
        if files.fileExists(atPath: dataDirectory) {
            let entries = (try? files.contentsOfDirectory(atPath: dataDirectory)) ?? []
            guard entries.isEmpty else {
                throw BackupFailure(
                    "\(dataDirectory) is not empty (\(entries.prefix(3).joined(separator: ", "))...): a restore fills only an empty data directory")
            }
        } else {
            try files.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        }
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory)
    }

    private func clearDirectory() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? [] {
            try? FileManager.default.removeItem(atPath: dataDirectory + "/" + entry)
        }
    }

    private func extract(_ manifest: BaseBackupManifest) async throws {
        let key = backupPrefix + manifest.baseObject
        let object: S3Client.ObjectStream
        do {
            object = try await storage.getObject(key)
        } catch let error as S3Error where error.status == 404 {
            throw BackupFailure("s3://\(storage.bucket)/\(key) does not exist, though the manifest names it: the backup is damaged")
        }
        // A reader that dies (tar refusing a damaged archive) must fail the write, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        let child = try ChildProcess(executable: tar, arguments: ["-x", "-f", "-", "-C", dataDirectory], stream: .writeInput)
        var digest = SHA256()
        var size: Int64 = 0
        var streamError: Error?
        do {
            for try await chunk in object.body {
                chunk.withUnsafeReadableBytes { digest.update(bufferPointer: $0) }
                size += Int64(chunk.readableBytes)
                try await writeAll(chunk, to: child.inputDescriptor)
            }
        } catch {
            streamError = error
        }
        child.closeInput()
        let exit = await child.wait()
        let sha256 = digest.finalize().map { String(format: "%02x", $0) }.joined()
        if size != manifest.size || sha256 != manifest.sha256 {
            throw BackupFailure(
                "s3://\(storage.bucket)/\(key) is damaged: \(size) bytes with SHA-256 \(sha256.prefix(12))..., the manifest says \(manifest.size) bytes with \(manifest.sha256.prefix(12))..."
            )
        }
        if let streamError { throw BackupFailure("reading s3://\(storage.bucket)/\(key) failed: \(streamError)") }
        guard exit.status == 0 else {
            throw BackupFailure("tar could not extract s3://\(storage.bucket)/\(key) (exit \(exit.status))\(BaseBackupUpload.excerpt(exit.standardError))")
        }
    }

    /// The copy is of a standby when it came from one: its standby signal and upstream connection go, and the
    /// recovery settings of the target come in.
    private func configureRecovery(_ manifest: BaseBackupManifest) throws {
        for signalFile in ["standby.signal", "recovery.signal"] {
            try? FileManager.default.removeItem(atPath: "\(dataDirectory)/\(signalFile)")
        }
        let autoConf = "\(dataDirectory)/postgresql.auto.conf"
        let existing = (try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? ""
        let replaced: Set<String> = [
            "primary_conninfo", "primary_slot_name", "restore_command", "recovery_target_time", "recovery_target_action",
            "recovery_target_inclusive", "recovery_target_timeline", "recovery_target", "archive_command", "archive_mode",
        ]
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
            let name = line.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces) ?? ""
            return !replaced.contains(name)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        let settings = target.settings(restoreCommand: manifest.walArchivePrefix.map(restoreCommand))
        lines += settings
        try (lines.joined(separator: "\n") + "\n").write(toFile: autoConf, atomically: true, encoding: .utf8)
        if !settings.isEmpty, !FileManager.default.createFile(atPath: "\(dataDirectory)/recovery.signal", contents: Data()) {
            throw BackupFailure("cannot write \(dataDirectory)/recovery.signal")
        }
    }
}
