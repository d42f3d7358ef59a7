import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ObjectStorage
import PostgresBackup
import PostgresNIO
import VectorBlocksPostgres

/// wal-push with and without gzip on real WAL: a PostgreSQL with pgvector writes rows of 384-dimensional vectors
/// until `--segments` WAL segments are full, their files are read back through SQL (`pg_read_binary_file`, so the
/// server may be anywhere), and each form pushes them all into S3 as archive_command would, one segment at a time.
/// Prints the bytes stored and MB/s of WAL for each.
struct WALCompressionBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-compression",
        abstract: "wal-push of real pgvector WAL into S3, gzip against none; prints bytes stored and MB/s.",
        discussion: """
            Needs a PostgreSQL with pgvector (a superuser: it drops and recreates the table bench_wal and reads pg_wal through SQL) and
            an S3 (moto_server or MinIO) with credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY:
              AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing vectorblocks-bench wal-compression \\
                --database-url postgres://postgres@127.0.0.1:5432/postgres --s3-endpoint http://127.0.0.1:5000 --segments 16
            """)

    @Option(help: "The PostgreSQL to write WAL on (a superuser).")
    var databaseURL: String

    @Option(help: "An S3-compatible endpoint.")
    var s3Endpoint: String

    @Option var bucket = "bench-wal"

    @Option var region = "eu-west-1"

    @Option(help: "How many full 16 MiB WAL segments to generate and push.")
    var segments = 16

    @Option(help: "Where to stage the segments as PostgreSQL's pg_wal holds them.")
    var workDirectory = FileManager.default.temporaryDirectory.path

    func run() async throws {
        var logger = Logger(label: "vectorblocks.bench.wal-compression")
        logger.logLevel = .warning
        let endpoint = try PostgresEndpoint(url: databaseURL, field: "--database-url")
        let work = workDirectory + "/vb-bench-wal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let files = try await generate(endpoint, into: work, logger: logger)
        let walBytes = try files.reduce(Int64(0)) { $0 + ((try FileManager.default.attributesOfItem(atPath: $1)[.size] as? NSNumber)?.int64Value ?? 0) }
        print("WAL compression benchmark: \(files.count) segments, \(Figures.format(Double(walBytes) / 1e6)) MB of pgvector WAL")

        let environment = ProcessInfo.processInfo.environment
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let s3 = try RepositorySettings(bucket: bucket, region: region, endpoint: s3Endpoint).client(environment: environment, http: http, logger: logger)
            try await s3.createBucket()
            for compression in [WALCompression.none, .gzip] {
                let prefix = "bench/\(UUID().uuidString)/wal_archive/"
                let archive = WALArchive(storage: s3, prefix: prefix, compression: compression, logger: logger)
                let start = ContinuousClock.now
                for file in files { try await archive.push(file) }
                let seconds = (ContinuousClock.now - start).seconds
                let stored = try await s3.listObjects(prefix: prefix).reduce(Int64(0)) { $0 + $1.size }
                let fetchStart = ContinuousClock.now
                for file in files {
                    let name = URL(fileURLWithPath: file).lastPathComponent
                    guard case .fetched = try await archive.fetch(name, to: work + "/fetched") else { throw ValidationError("\(name) was not archived") }
                    guard try Data(contentsOf: URL(fileURLWithPath: work + "/fetched")) == Data(contentsOf: URL(fileURLWithPath: file)) else {
                        throw ValidationError("\(name) came back different")
                    }
                }
                let fetchSeconds = (ContinuousClock.now - fetchStart).seconds
                print(
                    "wal-push --compression \(compression.rawValue):".padding(toLength: 30, withPad: " ", startingAt: 0)
                        + "\(Figures.format(Double(stored) / 1e6)) MB stored (\(Figures.format(100 * Double(stored) / Double(walBytes)))%), "
                        + "push \(Figures.format(Double(walBytes) / 1e6 / seconds)) MB/s, fetch \(Figures.format(Double(walBytes) / 1e6 / fetchSeconds)) MB/s"
                )
                try await s3.deleteObjects(try await s3.listObjects(prefix: prefix).map(\.key))
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Writes vector rows until `segments` full segments follow the starting one, then copies those files out of
    /// pg_wal (before a checkpoint can recycle them, each batch is read as soon as it is complete).
    private func generate(_ endpoint: PostgresEndpoint, into work: String, logger: Logger) async throws -> [String] {
        try await endpoint.withConnection(logger: logger) { connection in
            for statement in [
                "CREATE EXTENSION IF NOT EXISTS vector", "DROP TABLE IF EXISTS bench_wal",
                "CREATE TABLE bench_wal (id bigserial PRIMARY KEY, title text, embedding vector(384))",
                "SELECT pg_switch_wal()",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            let first = try await Self.text("SELECT pg_walfile_name(pg_current_wal_insert_lsn())", connection, logger)
            var files: [String] = []
            while files.count < segments {
                try await connection.query(
                    """
                    INSERT INTO bench_wal (title, embedding)
                    SELECT 'document ' || g, (SELECT array_agg(random()::real) FROM generate_series(1, 384) WHERE g > 0)::vector
                    FROM generate_series(1, 2000) g
                    """, logger: logger)
                let current = try await Self.text("SELECT pg_walfile_name(pg_current_wal_insert_lsn())", connection, logger)
                let complete = try await Self.names(
                    "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= '\(first)' AND name < '\(current)' ORDER BY name",
                    connection, logger)
                for name in complete.prefix(segments) where !files.contains(where: { $0.hasSuffix("/" + name) }) {
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_read_binary_file('pg_wal/\(name)')"), logger: logger)
                    for try await bytes in rows.decode(ByteBuffer.self) {
                        try Data(bytes.readableBytesView).write(to: URL(fileURLWithPath: work + "/" + name))
                    }
                    files.append(work + "/" + name)
                }
            }
            return files.sorted()
        }
    }

    private static func text(_ sql: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> String {
        try await names(sql, connection, logger).first ?? ""
    }

    private static func names(_ sql: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String.self) { values.append(value) }
        return values
    }
}
