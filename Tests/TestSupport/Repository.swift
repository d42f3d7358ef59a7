import Foundation
import KubeKit
import VectorBlocksAPI

/// The repository root, found from this file's place in it, so tests read the committed manifests.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The documents of a YAML file of the repository.
public func repositoryYAML(_ path: String) throws -> [JSONValue] {
    try ManifestYAML.parse(String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8))
}

/// Registers the committed CRDs (crds/*.yaml), as `kubectl apply -f crds/` would.
public func installVectorBlocksCRDs(_ client: KubeClient) async throws {
    let directory = repositoryRoot.appendingPathComponent("crds").path
    for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where file.hasSuffix(".yaml") {
        for crd in try repositoryYAML("crds/\(file)") {
            _ = try await client.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
        }
    }
}
