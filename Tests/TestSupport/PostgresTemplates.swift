import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One `initdb`'d data directory per PostgreSQL build, made on first use and copied for each new server: initdb
/// took a third of a CPU-second a server, and the suite starts dozens, where a copy takes a hundredth. The copies
/// share the template's system identifier, which nothing here compares across unrelated servers (a standby is
/// cloned from its primary, and so shares it anyway).
actor PostgresTemplates {
    static let shared = PostgresTemplates()

    private var made: [String: Task<String, any Error>] = [:]
    /// Removed when the process exits.
    private static let directory = Mutex<TemporaryDirectory?>(nil)

    /// The template data directory of the build in `binDirectory`, made by `initialise` (given an empty directory,
    /// returning the data directory it made there) the first time it is asked for; callers that ask while it is
    /// being made wait for that one run.
    func dataDirectory(binDirectory: String, initialise: @escaping @Sendable (String) async throws -> String) async throws -> String {
        if let task = made[binDirectory] { return try await task.value }
        // Unstructured, so that a caller cancelled while the template is being made does not cancel it for the others.
        let task = Task<String, any Error> {
            let path = try Self.parentDirectory() + "/" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            return try await initialise(path)
        }
        made[binDirectory] = task
        do {
            return try await task.value
        } catch {
            made[binDirectory] = nil
            throw error
        }
    }

    private static func parentDirectory() throws -> String {
        try directory.withLock { directory in
            if let directory { return directory.path }
            let made = try TemporaryDirectory()
            directory = made
            atexit { PostgresTemplates.directory.withLock { $0 = nil } }
            return made.path
        }
    }
}
