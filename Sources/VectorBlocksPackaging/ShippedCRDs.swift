import Foundation
import KubeKit
import VectorBlocksAPI

/// The CRDs as `vectorblocks-gen deploy` wrote them into this library's resources: what `kbctl install` applies and
/// the playground installs, read from the bundle beside the executable rather than generated at run time.
public enum ShippedCRDs {
    public enum LoadError: Error, CustomStringConvertible {
        case missingBundle

        public var description: String {
            "the CRDs are not beside this executable (VectorBlocks_VectorBlocksPackaging.resources): copy the resource bundle with the binary, or apply crds/ from a checkout"
        }
    }

    /// Every CRD document, ordered by file name.
    public static func documents() throws -> [JSONValue] {
        guard let folder = Bundle.module.url(forResource: "crds", withExtension: nil) else { throw LoadError.missingBundle }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.flatMap { name in
            try ManifestYAML.parse(String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
        }
    }
}
