import Foundation

/// The credentials attached to one request.
struct RequestCredentials: Sendable {
    var authorization: String?
    /// A client certificate and key from an exec plugin, used instead of the configured ones.
    var clientCertificatePEM: [UInt8]?
    var clientKeyPEM: [UInt8]?
}

/// Hands out the current credentials: re-reads a token file once a minute (projected service-account tokens
/// rotate), and runs an exec plugin only when its credential has expired or the server rejected it.
actor CredentialProvider {
    private let credentials: KubeClientConfiguration.Credentials
    private let tokenFileRefreshInterval: Duration
    private let clock = ContinuousClock()

    private var cachedFileToken: (token: String, readAt: ContinuousClock.Instant)?
    private var cachedExec: ExecCredentialPlugin.Credential?
    private var execInFlight: Task<ExecCredentialPlugin.Credential, any Error>?

    /// Exec credentials are renewed this long before they expire, so a request never leaves with a dying token.
    private static let expirySkew: TimeInterval = 10

    init(credentials: KubeClientConfiguration.Credentials, tokenFileRefreshInterval: Duration = .seconds(60)) {
        self.credentials = credentials
        self.tokenFileRefreshInterval = tokenFileRefreshInterval
    }

    func current() async throws -> RequestCredentials {
        switch credentials {
        case .none:
            return RequestCredentials()
        case .bearerToken(let token):
            return RequestCredentials(authorization: "Bearer \(token)")
        case .basic(let username, let password):
            let encoded = Data("\(username):\(password)".utf8).base64EncodedString()
            return RequestCredentials(authorization: "Basic \(encoded)")
        case .tokenFile(let path):
            return RequestCredentials(authorization: "Bearer \(try fileToken(path: path))")
        case .exec(let config, let cluster):
            let credential = try await execCredential(ExecCredentialPlugin(config: config, cluster: cluster))
            return RequestCredentials(
                authorization: credential.token.flatMap { $0.isEmpty ? nil : "Bearer \($0)" },
                clientCertificatePEM: credential.clientCertificatePEM, clientKeyPEM: credential.clientKeyPEM)
        }
    }

    /// Forgets cached credentials after the server answered 401, so the next request reads or runs them afresh.
    func invalidate() {
        cachedFileToken = nil
        cachedExec = nil
    }

    /// Whether a 401 might be cured by fetching credentials again.
    var canRefresh: Bool {
        switch credentials {
        case .tokenFile, .exec: return true
        case .none, .bearerToken, .basic: return false
        }
    }

    private func fileToken(path: String) throws -> String {
        if let cached = cachedFileToken, clock.now - cached.readAt < tokenFileRefreshInterval {
            return cached.token
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigurationError.unreadableFile(path: path, purpose: "token")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        cachedFileToken = (token, clock.now)
        return token
    }

    private func execCredential(_ plugin: ExecCredentialPlugin) async throws -> ExecCredentialPlugin.Credential {
        if let cached = cachedExec {
            if let expiration = cached.expiration {
                if expiration.timeIntervalSinceNow > Self.expirySkew { return cached }
            } else {
                return cached
            }
        }
        // Concurrent requests share one run of the plugin.
        if let running = execInFlight { return try await running.value }
        let task = Task { try await plugin.run() }
        execInFlight = task
        defer { execInFlight = nil }
        let credential = try await task.value
        cachedExec = credential
        return credential
    }
}
