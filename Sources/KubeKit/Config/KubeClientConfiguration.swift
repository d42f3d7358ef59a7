import Foundation
import Metrics

/// Everything a client needs to reach one API server as one identity: the result of reading a kubeconfig context or
/// the pod's service account.
public struct KubeClientConfiguration: Sendable {
    /// The API server's base URL, such as `https://10.0.0.1:443`, without a trailing slash.
    public var server: String
    /// The namespace used when a call names none: the context's namespace, or the pod's own namespace in a cluster.
    public var namespace: String
    public var tls: TLSMaterial
    public var credentials: Credentials
    public var userAgent: String
    public var retryPolicy: RetryPolicy
    /// Requests other than watches must complete within this time.
    public var requestTimeout: Duration
    /// Where request metrics go; nil uses the process-wide `MetricsSystem`.
    public var metricsFactory: (any MetricsFactory)?

    public init(
        server: String, namespace: String = "default", tls: TLSMaterial = .init(), credentials: Credentials = .none,
        userAgent: String = "vectorblocks-kubekit", retryPolicy: RetryPolicy = .init(),
        requestTimeout: Duration = .seconds(30), metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        var trimmed = server
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw KubeConfigurationError.invalidServer(server)
        }
        self.server = trimmed
        self.namespace = namespace
        self.tls = tls
        self.credentials = credentials
        self.userAgent = userAgent
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.metricsFactory = metricsFactory
    }

    /// TLS trust and client identity, as PEM bytes.
    public struct TLSMaterial: Sendable, Hashable {
        public var certificateAuthorityPEM: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        public var clientCertificatePEM: [UInt8]?
        public var clientKeyPEM: [UInt8]?

        public init(
            certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false,
            clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil
        ) {
            self.certificateAuthorityPEM = certificateAuthorityPEM
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
        }
    }

    /// How requests authenticate. `description` never shows a secret.
    public enum Credentials: Sendable, Hashable, CustomStringConvertible {
        case none
        case bearerToken(String)
        /// A token re-read from the file as it rotates, as projected service-account tokens do.
        case tokenFile(path: String)
        case basic(username: String, password: String)
        case exec(Kubeconfig.ExecConfig, cluster: ExecClusterInfo?)

        public var description: String {
            switch self {
            case .none: return "none"
            case .bearerToken: return "bearer token (redacted)"
            case .tokenFile(let path): return "token file \(path)"
            case .basic(let username, _): return "basic auth as \(username) (password redacted)"
            case .exec(let config, _): return "exec plugin \(config.command)"
            }
        }
    }

    /// What an exec plugin is told about the cluster when `provideClusterInfo` is set.
    public struct ExecClusterInfo: Sendable, Hashable, Codable {
        public var server: String
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }
}

extension KubeClientConfiguration {
    /// The configuration for a context of a kubeconfig (its current context when `context` is nil).
    public init(kubeconfig: Kubeconfig, context contextName: String? = nil) throws {
        guard let name = contextName ?? kubeconfig.currentContext else {
            throw KubeConfigurationError.noCurrentContext
        }
        guard let context = kubeconfig.contexts.first(where: { $0.name == name })?.context else {
            throw KubeConfigurationError.unknownContext(name, available: kubeconfig.contexts.map(\.name))
        }
        guard let cluster = kubeconfig.clusters.first(where: { $0.name == context.cluster })?.cluster else {
            throw KubeConfigurationError.unknownCluster(context.cluster, context: name)
        }
        let user: Kubeconfig.User
        if let userName = context.user, !userName.isEmpty {
            guard let found = kubeconfig.users.first(where: { $0.name == userName })?.user else {
                throw KubeConfigurationError.unknownUser(userName, context: name)
            }
            user = found
        } else {
            user = Kubeconfig.User()
        }

        let certificateAuthority = try Self.pem(
            inline: cluster.certificateAuthorityData, file: cluster.certificateAuthority,
            field: "clusters[\(context.cluster)].certificate-authority")
        let tls = TLSMaterial(
            certificateAuthorityPEM: certificateAuthority,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            clientCertificatePEM: try Self.pem(
                inline: user.clientCertificateData, file: user.clientCertificate,
                field: "users[\(context.user ?? "")].client-certificate"),
            clientKeyPEM: try Self.pem(
                inline: user.clientKeyData, file: user.clientKey, field: "users[\(context.user ?? "")].client-key"))
        if (tls.clientCertificatePEM == nil) != (tls.clientKeyPEM == nil) {
            throw KubeConfigurationError.invalidCertificate(
                field: "users[\(context.user ?? "")]",
                reason: "a client certificate needs its key and a key needs its certificate: set both or neither")
        }

        let credentials: Credentials
        if let exec = user.exec {
            let info = ExecClusterInfo(
                server: cluster.server,
                certificateAuthorityData: certificateAuthority.map { Data($0).base64EncodedString() },
                insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, tlsServerName: cluster.tlsServerName)
            credentials = .exec(exec, cluster: exec.provideClusterInfo == true ? info : nil)
        } else if let token = user.token, !token.isEmpty {
            credentials = .bearerToken(token)
        } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            credentials = .tokenFile(path: tokenFile)
        } else if let username = user.username, let password = user.password {
            credentials = .basic(username: username, password: password)
        } else {
            credentials = .none
        }
        let namespace = context.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        try self.init(server: cluster.server, namespace: namespace, tls: tls, credentials: credentials)
    }

    /// The configuration of a process running in a pod: the API server from `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT`, the service account's CA and namespace, and its token re-read as it rotates.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws -> KubeClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubeConfigurationError.notInCluster(missing: "KUBERNETES_SERVICE_HOST")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubeConfigurationError.notInCluster(missing: "KUBERNETES_SERVICE_PORT")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.fileExists(atPath: tokenPath) else {
            throw KubeConfigurationError.notInCluster(missing: tokenPath)
        }
        let caPath = serviceAccountDirectory + "/ca.crt"
        let certificateAuthority = try pem(inline: nil, file: caPath, field: "service account ca.crt")
        let namespaceFile = FileManager.default.contents(atPath: serviceAccountDirectory + "/namespace")
            .flatMap { String(data: $0, encoding: .utf8) }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let namespace = namespaceFile.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return try KubeClientConfiguration(
            server: "https://\(hostPart):\(port)", namespace: namespace,
            tls: TLSMaterial(certificateAuthorityPEM: certificateAuthority),
            credentials: .tokenFile(path: tokenPath))
    }

    /// The configuration controller-runtime would pick: an explicit kubeconfig path, else `KUBECONFIG`, else the
    /// pod's service account, else `~/.kube/config`.
    public static func load(
        kubeconfigPath: String? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws -> KubeClientConfiguration {
        if let kubeconfigPath, !kubeconfigPath.isEmpty {
            guard FileManager.default.fileExists(atPath: kubeconfigPath) else {
                throw KubeConfigurationError.unreadableFile(path: kubeconfigPath, purpose: "kubeconfig")
            }
            return try KubeClientConfiguration(kubeconfig: Kubeconfig.load(paths: [kubeconfigPath]), context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init)
            return try KubeClientConfiguration(kubeconfig: Kubeconfig.load(paths: paths), context: context)
        }
        if context == nil, environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return try KubeClientConfiguration(
            kubeconfig: Kubeconfig.load(paths: [home + "/.kube/config"]), context: context)
    }

    static func pem(inline: String?, file: String?, field: String) throws -> [UInt8]? {
        if let inline, !inline.isEmpty {
            guard let data = Data(base64Encoded: inline, options: .ignoreUnknownCharacters) else {
                throw KubeConfigurationError.invalidCertificate(
                    field: field + "-data", reason: "not valid base64: paste the PEM file's base64 encoding")
            }
            return Array(data)
        }
        if let file, !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw KubeConfigurationError.unreadableFile(path: file, purpose: field)
            }
            return Array(data)
        }
        return nil
    }
}
