import Foundation
import Yams

/// A kubeconfig file (`apiVersion: v1, kind: Config`), or several merged the way kubectl merges `KUBECONFIG`.
public struct Kubeconfig: Sendable, Hashable, Codable {
    public var clusters: [NamedCluster]
    public var users: [NamedUser]
    public var contexts: [NamedContext]
    public var currentContext: String?

    public init(
        clusters: [NamedCluster] = [], users: [NamedUser] = [], contexts: [NamedContext] = [],
        currentContext: String? = nil
    ) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
    }

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clusters = try container.decodeIfPresent([NamedCluster].self, forKey: .clusters) ?? []
        users = try container.decodeIfPresent([NamedUser].self, forKey: .users) ?? []
        contexts = try container.decodeIfPresent([NamedContext].self, forKey: .contexts) ?? []
        currentContext = try container.decodeIfPresent(String.self, forKey: .currentContext).flatMap {
            $0.isEmpty ? nil : $0
        }
    }

    public struct NamedCluster: Sendable, Hashable, Codable {
        public var name: String
        public var cluster: Cluster
        public init(name: String, cluster: Cluster) {
            self.name = name
            self.cluster = cluster
        }
    }

    public struct Cluster: Sendable, Hashable, Codable {
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        public init(
            server: String, certificateAuthority: String? = nil, certificateAuthorityData: String? = nil,
            insecureSkipTLSVerify: Bool? = nil, tlsServerName: String? = nil
        ) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
        }

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    public struct NamedUser: Sendable, Hashable, Codable {
        public var name: String
        public var user: User
        public init(name: String, user: User) {
            self.name = name
            self.user = user
        }
    }

    public struct User: Sendable, Hashable, Codable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?

        public init(
            token: String? = nil, tokenFile: String? = nil, clientCertificate: String? = nil,
            clientCertificateData: String? = nil, clientKey: String? = nil, clientKeyData: String? = nil,
            username: String? = nil, password: String? = nil, exec: ExecConfig? = nil
        ) {
            self.token = token
            self.tokenFile = tokenFile
            self.clientCertificate = clientCertificate
            self.clientCertificateData = clientCertificateData
            self.clientKey = clientKey
            self.clientKeyData = clientKeyData
            self.username = username
            self.password = password
            self.exec = exec
        }

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }

    /// An exec credential plugin, such as `aws eks get-token`.
    public struct ExecConfig: Sendable, Hashable, Codable {
        public var command: String
        public var args: [String]?
        public var env: [EnvVar]?
        public var apiVersion: String
        public var installHint: String?
        public var provideClusterInfo: Bool?
        public var interactiveMode: String?

        public init(
            command: String, args: [String]? = nil, env: [EnvVar]? = nil,
            apiVersion: String = "client.authentication.k8s.io/v1", installHint: String? = nil,
            provideClusterInfo: Bool? = nil, interactiveMode: String? = nil
        ) {
            self.command = command
            self.args = args
            self.env = env
            self.apiVersion = apiVersion
            self.installHint = installHint
            self.provideClusterInfo = provideClusterInfo
            self.interactiveMode = interactiveMode
        }

        public struct EnvVar: Sendable, Hashable, Codable {
            public var name: String
            public var value: String
            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }
    }

    public struct NamedContext: Sendable, Hashable, Codable {
        public var name: String
        public var context: Context
        public init(name: String, context: Context) {
            self.name = name
            self.context = context
        }
    }

    public struct Context: Sendable, Hashable, Codable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public init(cluster: String, user: String? = nil, namespace: String? = nil) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }
}

extension Kubeconfig {
    /// Parses one kubeconfig document. Relative file paths in it (certificates, keys, token files, and an exec
    /// command that contains a slash) are resolved against `directory`, as kubectl resolves them against the file.
    public init(yaml: String, resolvingPathsAgainst directory: String? = nil, source: String = "kubeconfig") throws {
        let trimmed = yaml.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            self.init()
            return
        }
        do {
            self = try YAMLDecoder().decode(Kubeconfig.self, from: yaml)
        } catch let error as DecodingError {
            throw KubeConfigurationError.invalidKubeconfig(source: source, reason: error.fieldDescription)
        } catch {
            throw KubeConfigurationError.invalidKubeconfig(source: source, reason: "\(error)")
        }
        if let directory {
            resolvePaths(against: directory)
        }
    }

    /// Reads and merges kubeconfig files in order. As kubectl does, the first file to define a cluster, user or
    /// context name wins, the first `current-context` wins, and files that do not exist are skipped.
    public static func load(paths: [String]) throws -> Kubeconfig {
        var merged = Kubeconfig()
        var foundAny = false
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else {
                throw KubeConfigurationError.unreadableFile(path: path, purpose: "kubeconfig")
            }
            foundAny = true
            let directory = (path as NSString).deletingLastPathComponent
            merged.merge(try Kubeconfig(yaml: text, resolvingPathsAgainst: directory, source: path))
        }
        guard foundAny else { throw KubeConfigurationError.noKubeconfig(searched: paths) }
        return merged
    }

    mutating func merge(_ other: Kubeconfig) {
        let clusterNames = Set(clusters.map(\.name))
        clusters += other.clusters.filter { !clusterNames.contains($0.name) }
        let userNames = Set(users.map(\.name))
        users += other.users.filter { !userNames.contains($0.name) }
        let contextNames = Set(contexts.map(\.name))
        contexts += other.contexts.filter { !contextNames.contains($0.name) }
        if currentContext == nil { currentContext = other.currentContext }
    }

    mutating func resolvePaths(against directory: String) {
        func resolve(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return (directory as NSString).appendingPathComponent(path)
        }
        for index in clusters.indices {
            clusters[index].cluster.certificateAuthority = resolve(clusters[index].cluster.certificateAuthority)
        }
        for index in users.indices {
            users[index].user.clientCertificate = resolve(users[index].user.clientCertificate)
            users[index].user.clientKey = resolve(users[index].user.clientKey)
            users[index].user.tokenFile = resolve(users[index].user.tokenFile)
            if let command = users[index].user.exec?.command, command.contains("/") {
                users[index].user.exec?.command = resolve(command) ?? command
            }
        }
    }
}

extension DecodingError {
    /// "clusters[0].cluster.server: value missing" rather than Swift's debug dump.
    var fieldDescription: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce(into: "") { result, key in
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "\(parent.isEmpty ? "" : parent + ".")\(key.stringValue): required field is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            let at = path(context.codingPath)
            return at.isEmpty ? context.debugDescription : "\(at): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
