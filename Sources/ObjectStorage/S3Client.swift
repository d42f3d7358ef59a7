import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Amazon S3 (and S3-compatible stores such as MinIO and moto) for one bucket, signed with SigV4: PutObject,
/// multipart upload from a stream (`S3Client+Multipart`), GetObject as a stream, ListObjectsV2 page by page and
/// DeleteObjects. Without an endpoint it addresses AWS virtual-hosted style (`bucket.s3.region.amazonaws.com`);
/// with one, path style (`endpoint/bucket/key`), as S3-compatible servers expect.
public struct S3Client: Sendable {
    public let bucket: String
    public let region: String
    public let endpoint: String?
    let signer: AWSSignatureV4
    let credentials: AWSCredentialProvider
    let http: HTTPClient
    let logger: Logger
    /// Each request's limit; a part or an object streams within it.
    public var timeout: TimeAmount = .minutes(10)

    public init(bucket: String, region: String, endpoint: String? = nil, credentials: AWSCredentialProvider, http: HTTPClient, logger: Logger) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.signer = AWSSignatureV4(region: region, service: "s3")
        self.credentials = credentials
        self.http = http
        self.logger = logger
    }

    /// One object as a listing names it.
    public struct ObjectSummary: Sendable, Hashable {
        public var key: String
        public var size: Int64
        public var lastModified: Date?
        public var etag: String
    }

    /// One page of ListObjectsV2: the objects, and the token for the next page when there is one.
    public struct ListPage: Sendable {
        public var objects: [ObjectSummary]
        public var nextContinuationToken: String?
    }

    /// An object being read: its length when S3 gave one, and its bytes as they arrive.
    public struct ObjectStream: Sendable {
        public var contentLength: Int64?
        public var body: HTTPClientResponse.Body
    }

    /// Creates the bucket (in `region`); an existing bucket of this account is left as it is.
    public func createBucket() async throws {
        var body: [UInt8] = []
        if region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        }
        let response = try await send("CreateBucket", .PUT, key: nil, body: body, accept: [.ok, .conflict])
        if response.status == .conflict {
            let text = try await Self.text(response)
            guard S3XML.text("Code", in: text) == "BucketAlreadyOwnedByYou" else {
                throw S3Error(action: "CreateBucket", status: 409, code: S3XML.text("Code", in: text) ?? "", message: S3XML.text("Message", in: text) ?? "")
            }
        }
    }

    /// Stores a small object in one request; returns its ETag. Large ones go through `upload(_:from:partSize:)`.
    @discardableResult
    public func putObject(_ key: String, bytes: [UInt8], contentType: String = "application/octet-stream") async throws -> String {
        let response = try await send("PutObject", .PUT, key: key, headers: ["content-type": contentType], body: bytes)
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.headers.first(name: "etag") ?? ""
    }

    /// Reads an object as a stream: the caller consumes `body`, which holds at most what the connection buffers.
    public func getObject(_ key: String) async throws -> ObjectStream {
        let response = try await send("GetObject", .GET, key: key)
        return ObjectStream(contentLength: response.headers.first(name: "content-length").flatMap { Int64($0) }, body: response.body)
    }

    /// A whole small object (a manifest), refused past `limit` bytes.
    public func getObjectBytes(_ key: String, upTo limit: Int = 16 << 20) async throws -> [UInt8] {
        let object = try await getObject(key)
        return Array(buffer: try await object.body.collect(upTo: limit))
    }

    /// One page of the objects whose keys start with `prefix`, in key order.
    public func listObjectsPage(prefix: String, continuationToken: String? = nil, maxKeys: Int = 1000) async throws -> ListPage {
        var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send("ListObjectsV2", .GET, key: nil, query: query)
        let text = try await Self.text(response)
        let objects = S3XML.blocks("Contents", in: text).map { entry in
            ObjectSummary(
                key: S3XML.text("Key", in: entry) ?? "", size: S3XML.text("Size", in: entry).flatMap { Int64($0) } ?? 0,
                lastModified: S3XML.text("LastModified", in: entry).flatMap(Self.date),
                etag: S3XML.text("ETag", in: entry) ?? "")
        }
        let truncated = S3XML.text("IsTruncated", in: text) == "true"
        return ListPage(objects: objects, nextContinuationToken: truncated ? S3XML.text("NextContinuationToken", in: text) : nil)
    }

    /// Every object whose key starts with `prefix`, following the continuation tokens.
    public func listObjects(prefix: String, pageSize: Int = 1000) async throws -> [ObjectSummary] {
        var objects: [ObjectSummary] = []
        var token: String?
        repeat {
            let page = try await listObjectsPage(prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    /// Deletes the objects, 1,000 to a request as S3 takes them; an absent key is not an error (S3 says Deleted).
    public func deleteObjects(_ keys: [String]) async throws {
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)]
            let objects = batch.map { "<Object><Key>\(S3XML.escaped($0))</Key></Object>" }.joined()
            let body = Array("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\(objects)</Delete>".utf8)
            let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
            let response = try await send(
                "DeleteObjects", .POST, key: nil, query: [("delete", "")], headers: ["content-md5": md5, "content-type": "application/xml"], body: body)
            let text = try await Self.text(response)
            let errors = S3XML.blocks("Error", in: text)
            if let first = errors.first {
                throw S3Error(
                    action: "DeleteObjects", status: 200, code: S3XML.text("Code", in: first) ?? "",
                    message:
                        "\(errors.count) of \(batch.count) objects not deleted, e.g. \(S3XML.text("Key", in: first) ?? ""): \(S3XML.text("Message", in: first) ?? "")"
                )
            }
        }
    }

    // MARK: Requests

    /// Sends one signed request; an answer outside `accept` is thrown as S3's error code and message.
    func send(
        _ action: String, _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [String: String] = [:],
        body: [UInt8] = [], accept: Set<HTTPResponseStatus> = [.ok, .noContent]
    ) async throws -> HTTPClientResponse {
        let target = self.target(key: key)
        let encodedQuery = query.map { "\(Self.uriEncoded($0.0))=\(Self.uriEncoded($0.1))" }.joined(separator: "&")
        let payloadHash = AWSSignatureV4.payloadHash(body)
        var headers = extra
        headers["host"] = target.host
        headers["x-amz-content-sha256"] = payloadHash
        let signature = signer.signingHeaders(
            method: method.rawValue, path: target.path, query: encodedQuery, headers: headers, payloadHash: payloadHash,
            credentials: try await credentials.credentials())
        headers.merge(signature) { $1 }
        var request = HTTPClientRequest(url: target.base + target.path + (encodedQuery.isEmpty ? "" : "?" + encodedQuery))
        request.method = method
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        if !body.isEmpty || method == .PUT || method == .POST {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        }
        let response = try await http.execute(request, timeout: timeout, logger: logger)
        guard accept.contains(response.status) else {
            let text = (try? await Self.text(response)) ?? ""
            throw S3Error(
                action: action, status: Int(response.status.code), code: S3XML.text("Code", in: text) ?? response.status.reasonPhrase,
                message: S3XML.text("Message", in: text) ?? "")
        }
        return response
    }

    /// The scheme and authority, the host header and the canonical path of a key (or of the bucket).
    func target(key: String?) -> (base: String, host: String, path: String) {
        let keyPath = key.map { "/" + Self.uriEncoded($0, keepingSlashes: true) } ?? "/"
        if let endpoint, let url = URL(string: endpoint), let host = url.host {
            let authority = url.port.map { "\(host):\($0)" } ?? host
            let path = "/\(Self.uriEncoded(bucket))" + (key == nil ? "" : keyPath)
            return ("\(url.scheme ?? "https")://\(authority)", authority, path)
        }
        let host = "\(bucket).s3.\(region).amazonaws.com"
        return ("https://\(host)", host, keyPath)
    }

    /// SigV4's URI encoding: everything but unreserved characters (and, in an object key's path, the slashes).
    static func uriEncoded(_ text: String, keepingSlashes: Bool = false) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepingSlashes { allowed.insert("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func text(_ response: HTTPClientResponse) async throws -> String {
        String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// S3 refused a request: its action, HTTP status, error code and message (never a credential: S3 does not echo them).
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var action: String
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "S3 refused \(action) with \(status) \(code): \(message)" }
}
