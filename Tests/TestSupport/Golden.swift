import Foundation
import Testing

/// Checks output against a file committed under the repository; `VB_UPDATE_GOLDEN=1` rewrites the file after a
/// deliberate change, for review in the diff.
public func expectGolden(_ rendered: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    if ProcessInfo.processInfo.environment["VB_UPDATE_GOLDEN"] == "1" {
        try rendered.write(to: repositoryFile(path), atomically: true, encoding: .utf8)
    }
    let committed = try String(contentsOf: repositoryFile(path), encoding: .utf8)
    #expect(rendered == committed, "\(path) differs; if the change is meant, run with VB_UPDATE_GOLDEN=1:\n\(rendered)", sourceLocation: sourceLocation)
}
