import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ObjectStorage
import PostgresBackup
import PostgresNIO
import VectorBlocksPostgres

/// pgvector's backup path against plain pg_basebackup in the same run: a database grown to `--size-mb` of vectors,
/// copied by pg_basebackup into a local tar file, then streamed by vectorblocks-backup's upload into S3 (no local
/// copy), then restored from S3 into an empty directory. Prints MB/s of each.
struct BackupBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Base backup to S3 and restore from it, against pg_basebackup to a local file; prints MB/s.",
        discussion: """
            Needs a PostgreSQL with pgvector (it drops and recreates the table bench_backup), its pg_basebackup, and an S3 (moto_server
            or MinIO) with credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:
              AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing vectorblocks-bench backup \\
                --database-url postgres://postgres@127.0.0.1:5432/postgres --pg-bin /usr/lib/postgresql/16/bin \\
                --s3-endpoint http://127.0.0.1:5000 --size-mb 1024
            """)

    @Option(help: "The PostgreSQL to back up (a superuser, trust or password in the URL).")
    var databaseURL: String

    @Option(help: "The directory of the server's pg_basebackup.")
    var pgBin: String

    @Option(help: "An S3-compatible endpoint.")
    var s3Endpoint: String

    @Option var bucket = "bench-backups"

    @Option var region = "eu-west-1"

    @Option(help: "The database size to grow to, in MB (rows of 384-dimensional vectors).")
    var sizeMb = 1024

    @Option(help: "Where to write the local copy and the restore.")
    var workDirectory = FileManager.default.temporaryDirectory.path

    func run() async throws {
        var logger = Logger(label: "vectorblocks.bench.backup")
        logger.logLevel = .warning
        let endpoint = try PostgresEndpoint(url: databaseURL, field: "--database-url")
        let size = try await grow(endpoint, logger: logger)
        print("backup benchmark: database \(Figures.format(Double(size) / 1e6)) MB")
        let environment = ProcessInfo.processInfo.environment.merging(endpoint.password.map { ["PGPASSWORD": $0] } ?? [:]) { $1 }
        let work = workDirectory + "/vb-bench-backup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let local = try await timed {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: pgBin + "/pg_basebackup")
            process.arguments = [
                "--host=\(endpoint.host)", "--port=\(endpoint.port)", "--username=\(endpoint.username)", "--no-password", "--pgdata=\(work)/local",
                "--format=tar", "--wal-method=fetch", "--checkpoint=fast",
            ]
            process.environment = environment
            try await runToEnd(process)
            return try directorySize(work + "/local")
        }
        print("pg_basebackup to a local tar:   \(rate(local)) MB/s (\(Figures.format(Double(local.bytes) / 1e6)) MB in \(Figures.format(local.seconds)) s)")

        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let s3 = try RepositorySettings(bucket: bucket, region: region, endpoint: s3Endpoint).client(environment: environment, http: http, logger: logger)
            try await s3.createBucket()
            let prefix = "bench/\(UUID().uuidString)/"
            let upload = try await timed {
                let manifest = try await BaseBackupUpload(
                    source: PostgresSource(host: endpoint.host, port: endpoint.port, user: endpoint.username, isStandby: false), storage: s3,
                    backupPrefix: prefix, walArchivePrefix: nil, pgBasebackup: pgBin + "/pg_basebackup", environment: environment, logger: logger
                ).run()
                return manifest.size
            }
            print(
                "vectorblocks-backup to S3:      \(rate(upload)) MB/s (\(Figures.format(Double(upload.bytes) / 1e6)) MB in \(Figures.format(upload.seconds)) s)"
            )
            let restore = try await timed {
                let manifest = try await BaseBackupRestore(
                    storage: s3, backupPrefix: prefix, dataDirectory: work + "/restored", target: .backupEnd, restoreCommand: { _ in "" }, logger: logger
                ).run()
                return manifest.size
            }
            print(
                "restore from S3:                \(rate(restore)) MB/s (\(Figures.format(Double(restore.bytes) / 1e6)) MB in \(Figures.format(restore.seconds)) s)"
            )
            print("upload / local: \(Figures.format(100 * Double(upload.bytes) / upload.seconds / (Double(local.bytes) / local.seconds)))%")
            try await s3.deleteObjects(try await s3.listObjects(prefix: prefix).map(\.key))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Adds rows of random 384-dimensional vectors until the database holds `--size-mb`; returns its size in bytes.
    private func grow(_ endpoint: PostgresEndpoint, logger: Logger) async throws -> Int64 {
        let target = Int64(sizeMb) * 1_000_000
        return try await endpoint.withConnection(logger: logger) { connection in
            for statement in [
                "CREATE EXTENSION IF NOT EXISTS vector", "DROP TABLE IF EXISTS bench_backup",
                "CREATE TABLE bench_backup (id bigserial PRIMARY KEY, embedding vector(384))",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            while true {
                let rows = try await connection.query("SELECT pg_database_size(current_database())", logger: logger)
                var size: Int64 = 0
                for try await (value) in rows.decode(Int64.self) { size = value }
                if size >= target { return size }
                try await connection.query(
                    """
                    INSERT INTO bench_backup (embedding)
                    SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE g > 0)::vector FROM generate_series(1, 20000) g
                    """, logger: logger)
            }
        }
    }

    private func timed(_ body: () async throws -> Int64) async throws -> (bytes: Int64, seconds: Double) {
        let start = ContinuousClock.now
        let bytes = try await body()
        return (bytes, (ContinuousClock.now - start).seconds)
    }

    private func rate(_ measured: (bytes: Int64, seconds: Double)) -> String {
        Figures.format(Double(measured.bytes) / 1e6 / measured.seconds)
    }

    private func directorySize(_ path: String) throws -> Int64 {
        try FileManager.default.contentsOfDirectory(atPath: path).reduce(Int64(0)) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: path + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    /// Runs a process to its end on a Dispatch thread, failing on a non-zero exit.
    private func runToEnd(_ process: Process) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            DispatchQueue.global().async {
                do {
                    try process.run()
                    process.waitUntilExit()
                    if process.terminationStatus == 0 {
                        continuation.resume()
                    } else {
                        continuation.resume(throwing: ValidationError("pg_basebackup exited with \(process.terminationStatus)"))
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
