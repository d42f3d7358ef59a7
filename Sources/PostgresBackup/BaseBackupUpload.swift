import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ObjectStorage

/// Takes a full physical backup with pg_basebackup and streams its tar straight into an S3 multipart upload (no copy
/// of the database on local disk), then writes the manifest. `--wal-method=fetch` puts the WAL from the backup's
/// start to its end inside the tar, so the base backup is consistent on its own; with continuous archiving the
/// manifest also names the WAL archive a restore reads to go further.
public struct BaseBackupUpload: Sendable {
    public var source: PostgresSource
    public var storage: S3Client
    /// The backup's key prefix, ending in `/`.
    public var backupPrefix: String
    public var walArchivePrefix: String?
    /// pg_basebackup's path (the cluster image's own).
    public var pgBasebackup: String
    public var environment: [String: String]
    /// The upload's part size: the largest backup is 10,000 parts of it.
    public var partSize: Int
    public var label: String
    public var logger: Logger

    public init(
        source: PostgresSource, storage: S3Client, backupPrefix: String, walArchivePrefix: String?, pgBasebackup: String = "pg_basebackup",
        environment: [String: String] = ProcessInfo.processInfo.environment, partSize: Int = 32 << 20, label: String = "vectorblocks",
        logger: Logger
    ) {
        self.source = source
        self.storage = storage
        self.backupPrefix = backupPrefix
        self.walArchivePrefix = walArchivePrefix
        self.pgBasebackup = pgBasebackup
        self.environment = environment
        self.partSize = partSize
        self.label = label
        self.logger = logger
    }

    var arguments: [String] {
        [
            "--host=\(source.host)", "--port=\(source.port)", "--username=\(source.user)", "--no-password", "--pgdata=-", "--format=tar",
            "--wal-method=fetch", "--checkpoint=fast", "--verbose", "--label=\(label)",
        ]
    }

    public func run(now: @Sendable () -> Date = { Date() }) async throws -> BaseBackupManifest {
        let startTime = now()
        let key = backupPrefix + BaseBackupManifest.baseObjectName
        let executable = try Self.resolve(pgBasebackup, path: environment["PATH"])
        if source.isStandby, let primary = source.primaryHost {
            try await requestCheckpoint(on: primary, psql: URL(fileURLWithPath: executable).deletingLastPathComponent().path + "/psql")
        }
        let child = try ChildProcess(executable: executable, arguments: arguments, environment: environment, stream: .readOutput)
        let digest = NIOLockedValueBox(SHA256())
        let uploaded: S3Client.UploadResult
        do {
            uploaded = try await storage.upload(
                key, from: HashedChunks(base: PipeChunks(descriptor: child.outputDescriptor), digest: digest), partSize: partSize)
        } catch {
            child.terminate()
            let exit = await child.wait()
            throw BackupFailure("uploading the base backup to \(key) failed: \(error)\(Self.excerpt(exit.standardError))")
        }
        let exit = await child.wait()
        guard exit.status == 0 else {
            // What pg_basebackup wrote before it failed is no backup: it goes, and no manifest says otherwise.
            try? await storage.deleteObjects([key])
            throw BackupFailure("pg_basebackup from \(source.host):\(source.port) failed with exit status \(exit.status)\(Self.excerpt(exit.standardError))")
        }
        guard let range = BaseBackupOutput(standardError: exit.standardError) else {
            try? await storage.deleteObjects([key])
            throw BackupFailure("pg_basebackup did not report the backup's WAL start and end points\(Self.excerpt(exit.standardError))")
        }
        let sha256 = digest.withLockedValue { $0.finalize() }.map { String(format: "%02x", $0) }.joined()
        let manifest = BaseBackupManifest(
            startLSN: range.start, endLSN: range.end, timeline: range.timeline, startTime: startTime, endTime: now(),
            source: "\(source.host):\(source.port)", fromStandby: source.isStandby, size: uploaded.size, sha256: sha256,
            walArchivePrefix: walArchivePrefix)
        try await storage.putObject(backupPrefix + BaseBackupManifest.objectName, bytes: try manifest.encoded(), contentType: "application/json")
        logger.info(
            "base backup stored",
            metadata: ["key": "\(key)", "bytes": "\(uploaded.size)", "start": "\(manifest.startLSN)", "end": "\(manifest.endLSN)"])
        return manifest
    }

    /// CHECKPOINT on the primary, so the standby's restartpoint, where its backup starts, comes now.
    private func requestCheckpoint(on primary: String, psql: String) async throws {
        let child = try ChildProcess(
            executable: psql,
            arguments: ["--host=\(primary)", "--port=\(source.port)", "--username=\(source.user)", "--no-password", "--dbname=postgres", "-c", "CHECKPOINT"],
            environment: environment, stream: .readOutput)
        // Its one line of output is not needed; reading it to the end lets it exit.
        for try await _ in PipeChunks(descriptor: child.outputDescriptor) {}
        let exit = await child.wait()
        guard exit.status == 0 else {
            throw BackupFailure("CHECKPOINT on the primary \(primary) failed with exit status \(exit.status)\(Self.excerpt(exit.standardError))")
        }
    }

    /// A program's path: as given when it has a slash, else the first match on PATH.
    static func resolve(_ program: String, path: String?) throws -> String {
        if program.contains("/") { return program }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw BackupFailure("\(program) is not on PATH (\(path ?? "")): run this in the cluster's own PostgreSQL image, or pass its path")
    }

    /// The last lines a program wrote to standard error, for an error message.
    static func excerpt(_ text: String) -> String {
        let lines = text.split(separator: "\n").suffix(5)
        return lines.isEmpty ? "" : ": " + lines.joined(separator: " | ")
    }
}

/// Passes chunks through while adding them to a SHA-256.
struct HashedChunks<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let digest: NIOLockedValueBox<SHA256>

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let digest: NIOLockedValueBox<SHA256>

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            chunk.withUnsafeReadableBytes { bytes in digest.withLockedValue { $0.update(bufferPointer: bytes) } }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), digest: digest)
    }
}
