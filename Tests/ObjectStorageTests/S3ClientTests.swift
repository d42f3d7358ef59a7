import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import ObjectStorage
import TestSupport
import Testing

@Suite("S3 client against moto")
struct S3ClientTests {
    static let logger = Logger(label: "objectstorage.test")

    /// A moto server with an empty bucket, and a client of it signed with moto's test keys.
    static func withBucket(region: String = "eu-west-1", _ body: (S3Client, MotoServer, HTTPClient) async throws -> Void) async throws {
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
            let client = S3Client(bucket: "backups", region: region, endpoint: moto.endpoint, credentials: credentials, http: http, logger: logger)
            try await client.createBucket()
            try await body(client, moto, http)
        } catch {
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        try await http.shutdown()
        moto.stop()
    }

    /// Deterministic bytes, sent in chunks as a stream would be.
    struct Chunks: AsyncSequence, Sendable {
        var total: Int
        var chunk: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            var sent = 0
            let total: Int
            let chunk: Int
            mutating func next() async -> ByteBuffer? {
                guard sent < total else { return nil }
                let count = Swift.min(chunk, total - sent)
                let bytes = (sent..<sent + count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
                sent += count
                return ByteBuffer(bytes: bytes)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(total: total, chunk: chunk) }

        var digest: String {
            var hasher = SHA256()
            for offset in stride(from: 0, to: total, by: chunk) {
                hasher.update(data: (offset..<Swift.min(offset + chunk, total)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
            }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    static func digest(of stream: S3Client.ObjectStream) async throws -> (digest: String, size: Int) {
        var hasher = SHA256()
        var size = 0
        for try await buffer in stream.body {
            hasher.update(data: buffer.readableBytesView)
            size += buffer.readableBytes
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }

    @Test func putGetListAndDeleteObjects() async throws {
        try await Self.withBucket { client, _, _ in
            let keys = [
                "qdrant/b1/manifest.json", "qdrant/b1/shards/vectors 0.snapshot", "qdrant/b1/shards/vectors+1.snapshot", "qdrant/b2/ünïcode", "other/x",
            ]
            for key in keys { try await client.putObject(key, bytes: Array("contents of \(key)".utf8)) }
            #expect(String(decoding: try await client.getObjectBytes("qdrant/b2/ünïcode"), as: UTF8.self) == "contents of qdrant/b2/ünïcode")

            let firstPage = try await client.listObjectsPage(prefix: "qdrant/", maxKeys: 2)
            #expect(firstPage.objects.map(\.key) == ["qdrant/b1/manifest.json", "qdrant/b1/shards/vectors 0.snapshot"])
            #expect(firstPage.nextContinuationToken != nil)
            let all = try await client.listObjects(prefix: "qdrant/", pageSize: 2)
            #expect(all.map(\.key) == keys.filter { $0.hasPrefix("qdrant/") }.sorted())
            #expect(all.first?.size == Int64("contents of qdrant/b1/manifest.json".utf8.count))

            try await client.deleteObjects(all.filter { $0.key.hasPrefix("qdrant/b1/") }.map(\.key) + ["qdrant/b1/absent"])
            #expect(try await client.listObjects(prefix: "").map(\.key) == ["other/x", "qdrant/b2/ünïcode"])

            let missing = await #expect(throws: S3Error.self) { try await client.getObject("qdrant/b1/manifest.json") }
            #expect(missing?.code == "NoSuchKey")
        }
    }

    @Test func largeBodiesGoUpInPartsAndComeBackAsAStream() async throws {
        try await Self.withBucket { client, _, _ in
            let large = Chunks(total: 12 << 20 | 12_345, chunk: 64 << 10)
            let stored = try await client.upload("pg/base.tar", from: large, partSize: S3Client.minimumPartSize)
            #expect(stored == S3Client.UploadResult(key: "pg/base.tar", size: Int64(large.total), parts: 3))
            let object = try await client.getObject("pg/base.tar")
            #expect(object.contentLength == Int64(large.total))
            let read = try await Self.digest(of: object)
            #expect(read.size == large.total && read.digest == large.digest)

            let small = Chunks(total: 70_000, chunk: 4096)
            #expect(try await client.upload("pg/small", from: small, partSize: S3Client.minimumPartSize).parts == 0)
            #expect(try await Self.digest(of: client.getObject("pg/small")).digest == small.digest)
        }
    }

    /// A stream that fails half-way: the upload is aborted, so no object and no pending upload stays behind.
    @Test func aFailedUploadLeavesNothingBehind() async throws {
        struct Broken: Error {}
        struct FailingChunks: AsyncSequence, Sendable {
            struct AsyncIterator: AsyncIteratorProtocol {
                var sent = 0
                mutating func next() async throws -> ByteBuffer? {
                    sent += 1
                    guard sent <= 100 else { throw Broken() }
                    return ByteBuffer(repeating: 7, count: 64 << 10)
                }
            }
            func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
        }
        try await Self.withBucket { client, _, _ in
            do {
                _ = try await client.upload("pg/broken", from: FailingChunks(), partSize: S3Client.minimumPartSize)
                Issue.record("an upload whose source failed succeeded")
            } catch is Broken {}
            #expect(try await client.listObjects(prefix: "pg/").isEmpty)
            #expect(try await client.pendingMultipartUploads().isEmpty)
        }
    }

    @Test func webIdentityCredentialsSignS3RequestsToo() async throws {
        try await Self.withBucket { client, moto, http in
            let directory = try TemporaryDirectory()
            let tokenFile = directory.path + "/token"
            try "eyJhbGciOiJSUzI1NiJ9.test.token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let provider = try #require(
                AWSCredentialProvider.environmentProvider(
                    ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/backup", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ENDPOINT_URL_STS": moto.endpoint],
                    region: client.region, http: http))
            #expect(try await provider.credentials().sessionToken != nil)
            let viaRole = S3Client(
                bucket: client.bucket, region: client.region, endpoint: moto.endpoint, credentials: provider, http: http, logger: Self.logger)
            try await viaRole.putObject("irsa", bytes: Array("by role".utf8))
            #expect(try await client.getObjectBytes("irsa") == Array("by role".utf8))
            #expect(AWSCredentialProvider.environmentProvider([:], region: client.region, http: http) == nil)
        }
    }
}
