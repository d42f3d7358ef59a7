import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Where AWS credentials (for SQS and S3) come from: a static key, the environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or a web-identity token file as IRSA gives a pod on EKS
/// (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`), exchanged with STS AssumeRoleWithWebIdentity and renewed
/// before it expires.
public actor AWSCredentialProvider {
    enum Source: Sendable {
        case fixed(AWSCredentials)
        case webIdentity(roleARN: String, tokenFile: String, sessionName: String, stsEndpoint: String)
    }

    private let source: Source
    private let http: HTTPClient
    private var cached: AWSCredentials?

    public init(credentials: AWSCredentials, http: HTTPClient) {
        self.source = .fixed(credentials)
        self.http = http
    }

    public init(roleARN: String, webIdentityTokenFile: String, sessionName: String = "vectorblocks", stsEndpoint: String, http: HTTPClient) {
        self.source = .webIdentity(roleARN: roleARN, tokenFile: webIdentityTokenFile, sessionName: sessionName, stsEndpoint: stsEndpoint)
        self.http = http
    }

    /// The provider the environment describes: a web identity when `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`
    /// are set (IRSA), else the access key variables; nil when neither is set, for the caller to say which of its
    /// settings is missing.
    public static func environmentProvider(_ environment: [String: String], region: String, http: HTTPClient) -> AWSCredentialProvider? {
        if let role = environment["AWS_ROLE_ARN"], let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !role.isEmpty, !tokenFile.isEmpty {
            let endpoint = environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://sts.\(region).amazonaws.com"
            return AWSCredentialProvider(
                roleARN: role, webIdentityTokenFile: tokenFile, sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? "vectorblocks",
                stsEndpoint: endpoint, http: http)
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty else {
            return nil
        }
        return AWSCredentialProvider(
            credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"]), http: http)
    }

    public func credentials() async throws -> AWSCredentials {
        switch source {
        case .fixed(let credentials):
            return credentials
        case .webIdentity(let role, let tokenFile, let sessionName, let endpoint):
            if let cached, let expiration = cached.expiration, expiration.timeIntervalSinceNow > 300 { return cached }
            let fresh = try await assumeRole(role: role, tokenFile: tokenFile, sessionName: sessionName, endpoint: endpoint)
            cached = fresh
            return fresh
        }
    }

    private func assumeRole(role: String, tokenFile: String, sessionName: String, endpoint: String) async throws -> AWSCredentials {
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw AWSError.tokenFileUnreadable(tokenFile)
        }
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role), ("RoleSessionName", sessionName),
            ("WebIdentityToken", token), ("DurationSeconds", "3600"),
        ].map { "\($0)=\(Self.formEncode($1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: endpoint.hasSuffix("/") ? endpoint : endpoint + "/")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok, let key = Self.element("AccessKeyId", in: body), let secret = Self.element("SecretAccessKey", in: body) else {
            throw AWSError.refused(action: "AssumeRoleWithWebIdentity", status: Int(response.status.code), message: Self.element("Message", in: body) ?? "")
        }
        let expiration = Self.element("Expiration", in: body).flatMap(Self.date)
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: Self.element("SessionToken", in: body), expiration: expiration)
    }

    /// An ISO 8601 time, with or without fractional seconds (STS sends either).
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// The text of the first `<name>` element; STS answers in a small, flat XML document.
    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func formEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

public enum AWSError: Error, CustomStringConvertible, Sendable {
    case refused(action: String, status: Int, message: String)
    case tokenFileUnreadable(String)

    public var description: String {
        switch self {
        case .refused(let action, let status, let message): "AWS refused \(action) with \(status): \(message)"
        case .tokenFileUnreadable(let path): "the web-identity token file \(path) cannot be read (AWS_WEB_IDENTITY_TOKEN_FILE)"
        }
    }
}
