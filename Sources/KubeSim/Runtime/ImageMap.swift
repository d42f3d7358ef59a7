import Foundation
import KubeKit
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// Which host programs stand in for which container images in the process runtime: an image reference whose
/// repository matches an entry's glob (any tag or digest) runs with the entry's directory first on its PATH.
///
/// As YAML (`kube-sim --image-map FILE`):
///
/// ```yaml
/// images:
/// - repository: pgvector/pgvector      # a glob over the repository, without tag or digest
///   bin: /opt/pg/bin                    # put first on PATH; its parent directory is visible inside the pod
///   env: {PGDATA_HINT: "x"}             # optional, added before the container's own env
///   entrypoint: [postgres]              # optional: the image's ENTRYPOINT, for containers without `command`
///   root: /opt                          # optional: the host directory shown in the pod (default: bin's parent)
///   user: "65532:65532"                 # optional: the image's USER (uid[:gid]), for containers without runAsUser
/// ```
public struct ImageMap: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// A glob (`*`, `?`, `[...]`) matched against the image's repository, e.g. `pgvector/*` or `*/pelican`.
        public var repository: String
        /// A host directory of executables, first on the container's PATH.
        public var binDirectory: String
        public var environment: [String: String]
        /// The image's ENTRYPOINT: what runs when a container has no `command`.
        public var entrypoint: [String]
        /// The host directory made visible inside the pod at the same path, read-only: by default the bin
        /// directory's parent, so that programs find their libraries and shared files beside it (`../lib`,
        /// `../share`); a wider one when they look further (a wheel's `$ORIGIN/../../../x.libs`).
        public var hostRoot: String
        /// The image's USER as numbers: what a container without `runAsUser` (`runAsGroup`) runs as, so that
        /// `runAsNonRoot` admits an image built to run as a non-root user, as the kubelet does; nil: root.
        public var user: UInt32?
        public var group: UInt32?

        public init(
            repository: String, binDirectory: String, environment: [String: String] = [:], entrypoint: [String] = [], hostRoot: String? = nil,
            user: UInt32? = nil, group: UInt32? = nil
        ) {
            self.repository = repository
            self.binDirectory = binDirectory
            self.environment = environment
            self.entrypoint = entrypoint
            self.hostRoot = hostRoot ?? (binDirectory as NSString).deletingLastPathComponent
            self.user = user
            self.group = group
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    /// The first entry whose glob matches the image's repository; nil when the image is not mapped.
    public func entry(for image: String) -> Entry? {
        let repository = Self.repository(of: image)
        return entries.first { entry in
            fnmatch(entry.repository, repository, 0) == 0
                || fnmatch(entry.repository, Self.withoutDockerHub(repository), 0) == 0
        }
    }

    /// The repository part of an image reference: no `@digest`, no `:tag` (a registry's `host:port/` stays).
    static func repository(of image: String) -> String {
        var reference = Substring(image)
        if let at = reference.firstIndex(of: "@") { reference = reference[..<at] }
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") { reference = reference[..<colon] }
        return String(reference)
    }

    /// `docker.io/library/postgres` and `docker.io/pgvector/pgvector` as people write them: `postgres`, `pgvector/pgvector`.
    private static func withoutDockerHub(_ repository: String) -> String {
        var name = repository
        for prefix in ["docker.io/", "index.docker.io/"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        if name.hasPrefix("library/") { name.removeFirst("library/".count) }
        return name
    }

    /// Reads the YAML form; errors name the entry and field that is wrong.
    public init(yaml: String) throws(ImageMapError) {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch { throw ImageMapError("the image map is not valid YAML: \(error)") }
        guard let document = root as? [String: Any], let images = document["images"] as? [Any] else {
            throw ImageMapError("the image map needs a top-level list `images:` of {repository, bin, env, entrypoint}")
        }
        var entries: [Entry] = []
        for (index, item) in images.enumerated() {
            let field = "images[\(index)]"
            guard let item = item as? [String: Any] else { throw ImageMapError("\(field) must be a mapping with `repository` and `bin`") }
            guard let repository = item["repository"] as? String, !repository.isEmpty else {
                throw ImageMapError("\(field).repository is required: a glob over image repositories such as pgvector/pgvector")
            }
            guard let bin = item["bin"] as? String, bin.hasPrefix("/") else {
                throw ImageMapError("\(field).bin is required and must be an absolute host directory of executables")
            }
            var environment: [String: String] = [:]
            if let env = item["env"] {
                guard let env = env as? [String: Any] else { throw ImageMapError("\(field).env must be a mapping of names to strings") }
                for (name, value) in env { environment[name] = "\(value)" }
            }
            var entrypoint: [String] = []
            if let command = item["entrypoint"] {
                guard let command = command as? [Any] else { throw ImageMapError("\(field).entrypoint must be a list of strings") }
                entrypoint = command.map { "\($0)" }
            }
            var root: String?
            if let value = item["root"] {
                guard let value = value as? String, value.hasPrefix("/"), bin.hasPrefix(value) else {
                    throw ImageMapError("\(field).root must be an absolute host directory that holds \(field).bin")
                }
                root = value
            }
            let (user, group) = try Self.user(item["user"], field: "\(field).user")
            entries.append(
                Entry(
                    repository: repository, binDirectory: bin, environment: environment, entrypoint: entrypoint, hostRoot: root, user: user,
                    group: group))
        }
        self.init(entries)
    }

    /// `65532` or `"65532:65532"`, as a Dockerfile's numeric USER; a name is refused (the kubelet cannot check a name
    /// against runAsNonRoot either).
    private static func user(_ value: Any?, field: String) throws(ImageMapError) -> (UInt32?, UInt32?) {
        guard let value else { return (nil, nil) }
        let parts = "\(value)".split(separator: ":", omittingEmptySubsequences: false).map { UInt32($0) }
        guard (1...2).contains(parts.count), let user = parts[0], parts.count == 1 || parts[1] != nil else {
            throw ImageMapError("\(field) must be a numeric uid or uid:gid such as \"65532:65532\", as the image's USER")
        }
        return (user, parts.count == 2 ? parts[1] : nil)
    }

    public static func load(path: String) throws(ImageMapError) -> ImageMap {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ImageMapError("cannot read the image map \(path)")
        }
        return try ImageMap(yaml: text)
    }
}

public struct ImageMapError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
