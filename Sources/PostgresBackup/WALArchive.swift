import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import ObjectStorage

/// A cluster's WAL archive in S3, for continuous archiving (`archive_command`) and point-in-time recovery
/// (`restore_command`): one object per WAL segment or timeline history file, under its own name, gzip-compressed
/// (`<name>.gz`) unless compression is off.
public struct WALArchive: Sendable {
    public var storage: S3Client
    /// Ends in `/`.
    public var prefix: String
    /// How push stores files; fetch reads both forms whatever this is.
    public var compression: WALCompression
    public var logger: Logger

    public init(storage: S3Client, prefix: String, compression: WALCompression = .gzip, logger: Logger) {
        self.storage = storage
        self.prefix = prefix
        self.compression = compression
        self.logger = logger
    }

    /// The key prefix of a cluster's archive. Backups are `<prefix>/<namespace>/<cluster>/<backup>/`; `_` is in no
    /// Kubernetes name, so no Backup's objects share this one.
    public static func prefix(clusterPrefix: String) -> String {
        clusterPrefix + "wal_archive/"
    }

    /// Archives one file (`%p`, relative to the data directory PostgreSQL runs the command in). PostgreSQL may ask
    /// again for a file it archived already (after a crash), perhaps in the other form (compression turned on or off
    /// since): the same content succeeds, different content fails, as archive_command must never overwrite an
    /// archived segment.
    public func push(_ path: String) async throws {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BackupFailure("cannot read \(path): \(error)")
        }
        let stored = try compression.encode(bytes)
        // One listing finds both forms: `<name>` and `<name>.gz` come before `<name>.partial` in key order, and only a
        // backup history (`<name>.<offset>.backup`) can come between them.
        let forms = Set(WALCompression.allCases.map { prefix + $0.objectName(name) })
        let existing = try await storage.listObjectsPage(prefix: prefix + name, maxKeys: 4).objects.filter { forms.contains($0.key) }
        if !existing.isEmpty {
            for object in existing {
                if try await holds(object, bytes: bytes, stored: stored) {
                    logger.info("already archived", metadata: ["file": "\(name)", "object": "\(object.key)"])
                    return
                }
            }
            throw BackupFailure(
                "\(existing[0].key) is archived already with different content; refusing to overwrite it (two clusters archiving to one prefix?)")
        }
        try await storage.putObject(prefix + compression.objectName(name), bytes: stored)
    }

    /// Whether an archived object holds a file's content: by its ETag when it is what push would store now, else
    /// by reading it back (gzip output may differ between zlib versions, and the other form differs anyway).
    private func holds(_ object: S3Client.ObjectSummary, bytes: [UInt8], stored: [UInt8]) async throws -> Bool {
        let (form, _) = WALCompression.of(objectName: object.key)
        if form == compression, object.size == Int64(stored.count) {
            let md5 = Insecure.MD5.hash(data: stored).map { String(format: "%02x", $0) }.joined()
            if object.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == md5 { return true }
        }
        let archived = try await storage.getObjectBytes(object.key, upTo: WALCompression.largestFile)
        return (try? form.decode(archived)) == bytes
    }

    public enum FetchResult: Sendable, Equatable {
        case fetched(bytes: Int)
        /// Not in the archive: PostgreSQL asks for files that may not exist (the next timeline's history, the
        /// segment after the last), so this is an answer, not an error.
        case absent
    }

    /// Fetches `name` (`%f`) into `destination` (`%p`): its `.gz` object decompressed, else its plain one (archived
    /// before compression, or with it off). Written beside the destination and renamed, so PostgreSQL never reads a
    /// partial file.
    public func fetch(_ name: String, to destination: String) async throws -> FetchResult {
        var found: (bytes: [UInt8], form: WALCompression)?
        for form in [WALCompression.gzip, .none] {
            do {
                found = (try await storage.getObjectBytes(prefix + form.objectName(name), upTo: WALCompression.largestFile), form)
                break
            } catch let error as S3Error where error.status == 404 {
                continue
            }
        }
        guard let found else { return .absent }
        let bytes: [UInt8]
        do {
            bytes = try found.form.decode(found.bytes)
        } catch let failure as BackupFailure {
            throw BackupFailure("\(prefix + found.form.objectName(name)): \(failure.description)")
        }
        let partial = destination + ".vbpartial"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: partial))
            _ = try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw BackupFailure("cannot write \(destination): \(error)")
        }
        return .fetched(bytes: bytes.count)
    }
}
