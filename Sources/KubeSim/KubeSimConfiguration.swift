/// How a KubeSim server behaves: who may call it and how its watches are paced.
public struct KubeSimConfiguration: Sendable {
    /// Bearer token → user name. When empty, every request is served anonymously; otherwise an unknown token gets 401.
    public var tokens: [String: String] = [:]
    /// How often a watch with `allowWatchBookmarks=true` receives a BOOKMARK event.
    public var bookmarkInterval: Duration = .seconds(1)
    /// How many events the server keeps for watches that resume from a resourceVersion; older ones get 410 Gone.
    public var watchHistoryLimit = 10_000
    /// Serve HTTPS with a fresh self-signed certificate (see `KubeSimServer.certificateAuthorityPEM`). kubectl only
    /// sends bearer tokens over TLS, so turn this on to drive kubectl against a server with `tokens`.
    public var tls = false

    public init() {}
}
