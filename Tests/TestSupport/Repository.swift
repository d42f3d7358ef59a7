import Foundation
import KubeKit
import VectorBlocksAPI

/// The repository root, found from this file's place in it, so tests read the committed manifests.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public func repositoryFile(_ path: String) -> URL {
    repositoryRoot.appendingPathComponent(path)
}

/// The documents of a YAML file of the repository.
public func yamlDocuments(_ path: String) throws -> [JSONValue] {
    try ManifestYAML.parse(String(contentsOf: repositoryFile(path), encoding: .utf8))
}

/// The one document of a YAML file of the repository, decoded.
public func decodeYAML<T: Decodable>(_ path: String, as type: T.Type = T.self) throws -> T {
    guard let document = try yamlDocuments(path).first else { throw TestSetupError("\(path) holds no document") }
    return try document.decode(as: T.self)
}

/// The committed CRDs (crds/*.yaml), read once per process: with every test that installs them parsing their YAML
/// again, the parsing took 2% of the suite's CPU.
private let committedCRDs = Result { () throws -> [JSONValue] in
    try FileManager.default.contentsOfDirectory(atPath: repositoryFile("crds").path).sorted()
        .filter { $0.hasSuffix(".yaml") }
        .flatMap { try yamlDocuments("crds/\($0)") }
}

/// Registers the committed CRDs, as `kubectl apply -f crds/` would.
public func installVectorBlocksCRDs(_ client: KubeClient) async throws {
    for crd in try committedCRDs.get() {
        _ = try await client.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
    }
}

/// A test's environment is missing something; the message says how to provide it.
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
