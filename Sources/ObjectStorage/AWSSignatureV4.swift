import Crypto
import Foundation

/// An AWS access key, with the session token that temporary credentials (IRSA, AssumeRole) carry.
public struct AWSCredentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-lived keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

/// AWS Signature Version 4 for one request (the `Authorization`, `X-Amz-Date` and, for temporary credentials,
/// `X-Amz-Security-Token` headers).
public struct AWSSignatureV4: Sendable {
    public var region: String
    public var service: String

    public init(region: String, service: String) {
        self.region = region
        self.service = service
    }

    /// The headers to add to a request whose other headers are `headers` (names in any case; `host` required).
    public func signingHeaders(
        method: String, path: String, query: String = "", headers: [String: String], body: [UInt8], credentials: AWSCredentials,
        date: Date = Date()
    ) -> [String: String] {
        signingHeaders(
            method: method, path: path, query: query, headers: headers, payloadHash: Self.payloadHash(body), credentials: credentials, date: date)
    }

    /// The same for a body already hashed (`payloadHash(_:)`), or `UNSIGNED-PAYLOAD` where S3 allows it.
    public func signingHeaders(
        method: String, path: String, query: String = "", headers: [String: String], payloadHash: String, credentials: AWSCredentials,
        date: Date = Date()
    ) -> [String: String] {
        let amzDate = Self.timestamp(date)
        let day = String(amzDate.prefix(8))
        var signed = Dictionary(headers.map { ($0.key.lowercased(), $0.value.trimmingCharacters(in: .whitespaces)) }, uniquingKeysWith: { $1 })
        signed["x-amz-date"] = amzDate
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = token }
        let names = signed.keys.sorted()
        let canonicalRequest = [
            method, path.isEmpty ? "/" : path, Self.canonicalQuery(query),
            names.map { "\($0):\(signed[$0]!)\n" }.joined(), names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        var result = ["x-amz-date": amzDate]
        if let token = credentials.sessionToken { result["x-amz-security-token"] = token }
        result["authorization"] =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return result
    }

    /// The lower-case hex SHA-256 of a request body, as the signature and S3's `x-amz-content-sha256` carry it.
    public static func payloadHash(_ body: [UInt8]) -> String {
        hex(SHA256.hash(data: body))
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Query parameters sorted by name, each already URI-encoded by the caller.
    static func canonicalQuery(_ query: String) -> String {
        query.split(separator: "&").map { $0.contains("=") ? String($0) : "\($0)=" }.sorted().joined(separator: "&")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
