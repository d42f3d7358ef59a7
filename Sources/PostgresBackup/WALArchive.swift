import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import ObjectStorage

/// A cluster's WAL archive in S3, for continuous archiving (`archive_command`) and point-in-time recovery
/// (`restore_command`): one object per WAL segment or timeline history file, under its own name.
public struct WALArchive: Sendable {
    public var storage: S3Client
    /// Ends in `/`.
    public var prefix: String
    public var logger: Logger

    public init(storage: S3Client, prefix: String, logger: Logger) {
        self.storage = storage
        self.prefix = prefix
        self.logger = logger
    }

    /// The key prefix of a cluster's archive. Backups are `<prefix>/<namespace>/<cluster>/<backup>/`; `_` is in no
    /// Kubernetes name, so no Backup's objects share this one.
    public static func prefix(clusterPrefix: String) -> String {
        clusterPrefix + "wal_archive/"
    }

    /// Archives one file (`%p`, relative to the data directory PostgreSQL runs the command in). PostgreSQL may ask
    /// again for a file it archived already (after a crash): the same content succeeds, different content fails, as
    /// archive_command must never overwrite an archived segment.
    public func push(_ path: String) async throws {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let key = prefix + name
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BackupFailure("cannot read \(path): \(error)")
        }
        if let existing = try await storage.listObjectsPage(prefix: key, maxKeys: 1).objects.first(where: { $0.key == key }) {
            let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            if existing.size == Int64(bytes.count), existing.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == md5 {
                logger.info("already archived", metadata: ["file": "\(name)"])
                return
            }
            throw BackupFailure("\(key) is archived already with different content; refusing to overwrite it (two clusters archiving to one prefix?)")
        }
        try await storage.putObject(key, bytes: bytes)
    }

    public enum FetchResult: Sendable, Equatable {
        case fetched(bytes: Int)
        /// Not in the archive: PostgreSQL asks for files that may not exist (the next timeline's history, the
        /// segment after the last), so this is an answer, not an error.
        case absent
    }

    /// Fetches `name` (`%f`) into `destination` (`%p`), written beside it and renamed, so PostgreSQL never reads a
    /// partial file.
    public func fetch(_ name: String, to destination: String) async throws -> FetchResult {
        let object: S3Client.ObjectStream
        do {
            object = try await storage.getObject(prefix + name)
        } catch let error as S3Error where error.status == 404 {
            return .absent
        }
        let bytes = try await object.body.collect(upTo: 1 << 30)
        let partial = destination + ".vbpartial"
        do {
            try Data(bytes.readableBytesView).write(to: URL(fileURLWithPath: partial))
            _ = try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw BackupFailure("cannot write \(destination): \(error)")
        }
        return .fetched(bytes: bytes.readableBytes)
    }
}
