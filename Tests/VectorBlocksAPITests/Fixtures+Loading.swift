import Foundation
import KubeKit
import TestSupport
import VectorBlocksAPI

/// The documents of a fixture of this test target.
func fixture(_ name: String) throws -> [JSONValue] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Fixtures") else {
        throw TestSetupError("fixture \(name).yaml is missing from Tests/VectorBlocksAPITests/Fixtures")
    }
    return try ManifestYAML.parse(String(contentsOf: url, encoding: .utf8))
}
