import Foundation
import VectorBlocksAPI

/// How `kbctl cluster connect` reaches a cluster, from its engine and its conn-credential Secret: for pgvector the
/// `psql` to run, the password only in its environment (`PGPASSWORD`), never among its arguments, so no other user
/// reads it in `ps`; for Qdrant, which has no client of its own, the REST URL and a `curl` that takes the API key
/// from a variable. What is printed never holds the credential: it reads it from the Secret with kubectl instead.
public struct ClusterConnection: Sendable, Equatable {
    /// The client to run; nil when there is none to run (Qdrant).
    public var program: String?
    public var arguments: [String]
    /// The variables the client runs with; the credential travels only here.
    public var environment: [String: String]
    /// What to print: the command with each secret variable read from the Secret by kubectl (`--dry-run`, or no
    /// client installed), or Qdrant's endpoint and example.
    public var printed: String

    /// Where the values come from, with `host` and `port` (e.g. 127.0.0.1 after `kubectl port-forward`) in place of
    /// the Secret's when given.
    public struct Source: Sendable {
        public var cluster: String
        public var namespace: String
        public var engine: String
        /// The conn-credential Secret's name and its decoded values.
        public var secretName: String
        public var credential: [String: String]

        public init(cluster: String, namespace: String, engine: String, secretName: String, credential: [String: String]) {
            self.cluster = cluster
            self.namespace = namespace
            self.engine = engine
            self.secretName = secretName
            self.credential = credential
        }
    }

    public static func plan(
        _ source: Source, host: String? = nil, port: String? = nil, database: String = "postgres", clientArguments: [String] = []
    ) throws -> ClusterConnection {
        let host = host ?? source.credential["host"] ?? ""
        let port = port ?? source.credential["port"] ?? ""
        switch source.engine {
        case "qdrant":
            return try qdrant(source, host: host, port: port)
        case "pgvector":
            return try postgres(source, host: host, port: port, database: database, clientArguments: clientArguments)
        default:
            throw CLIError("cluster \"\(source.cluster)\" runs \"\(source.engine)\", which kbctl cluster connect does not know; it knows pgvector and qdrant")
        }
    }

    static func postgres(_ source: Source, host: String, port: String, database: String, clientArguments: [String]) throws -> ClusterConnection {
        let password = try value(source, key: "password")
        let user = source.credential["username"] ?? "postgres"
        let arguments = ["-h", host, "-p", port, "-U", user, "-d", database] + clientArguments
        let command = "PGPASSWORD=\"\(secretReader(source, key: "password"))\" psql " + arguments.map(shellQuoted).joined(separator: " ")
        return ClusterConnection(
            program: "psql", arguments: arguments, environment: ["PGPASSWORD": password],
            printed: command + "\n" + portForwardHint(source, service: "\(source.cluster)-postgresql", port: 5432))
    }

    static func qdrant(_ source: Source, host: String, port: String) throws -> ClusterConnection {
        _ = try value(source, key: "apiKey")
        let endpoint = source.credential["endpoint"].flatMap { $0.isEmpty ? nil : $0 }
        let url = (host == source.credential["host"] && port == source.credential["port"] ? endpoint : nil) ?? "http://\(host):\(port)"
        let text = """
            Qdrant REST endpoint: \(url)
            export QDRANT_API_KEY="\(secretReader(source, key: "apiKey"))"
            curl -H "api-key: $QDRANT_API_KEY" \(url)/collections

            """
        return ClusterConnection(
            program: nil, arguments: [], environment: [:], printed: text + portForwardHint(source, service: "\(source.cluster)-qdrant", port: 6333))
    }

    static func value(_ source: Source, key: String) throws -> String {
        guard let value = source.credential[key], !value.isEmpty else {
            throw CLIError(
                "Secret \(source.namespace)/\(source.secretName) has no \"\(key)\"; the operator writes it when it reconciles the Cluster: see kbctl cluster describe \(source.cluster)"
            )
        }
        return value
    }

    /// A shell command that prints the Secret's value, for the reader to run with their own rights.
    static func secretReader(_ source: Source, key: String) -> String {
        "$(kubectl get secret -n \(source.namespace) \(source.secretName) -o jsonpath='{.data.\(key)}' | base64 -d)"
    }

    static func portForwardHint(_ source: Source, service: String, port: Int) -> String {
        "(from outside the cluster: kubectl port-forward -n \(source.namespace) service/\(service) \(port):\(port), then add --host 127.0.0.1)\n"
    }

    /// The word as a POSIX shell reads it back: bare when it is safe, single-quoted otherwise.
    public static func shellQuoted(_ word: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%")
        if !word.isEmpty, word.unicodeScalars.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The program's path in `path` (a `PATH` value), if it is installed there.
    public static func locate(_ program: String, path: String?) -> String? {
        for directory in (path ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
