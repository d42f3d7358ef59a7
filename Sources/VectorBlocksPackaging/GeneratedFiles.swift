import Foundation
import KubeKit
import VectorBlocksAPI

/// The files `vectorblocks-gen` writes, by path relative to the repository root; the drift tests compare the
/// committed files with exactly this.
public enum GeneratedFiles {
    public static let crdDirectory = "crds"
    public static let addonDirectory = "deploy/addons"
    public static let chartDirectory = "charts"
    public static let operatorManifestPath = "deploy/operator.yaml"
    /// The copy of the CRDs this library carries as a resource, which `kbctl install` applies.
    public static let shippedCRDDirectory = "Sources/VectorBlocksPackaging/Resources/crds"
    /// The reference Kubernetes OpenAPI document, relative to the repository root.
    public static let openAPIDocumentPath = "Sources/KubeSim/Resources/swagger.json"

    /// `crds/<plural>.<group>.yaml` for every kind.
    public static func crds(openAPIDocument: JSONValue) throws -> [String: String] {
        let files = try CRDGenerator(openAPIDocument: openAPIDocument).files()
        return Dictionary(uniqueKeysWithValues: files.map { ("\(crdDirectory)/\($0.key)", $0.value) })
    }

    /// `deploy/addons/<addon>.yaml` and `charts/<addon>/...` for every addon.
    public static func addons() throws -> [String: String] {
        var files: [String: String] = [:]
        for addon in Addon.all {
            files["\(addonDirectory)/\(addon.name).yaml"] = try addon.plainYAML()
            for (path, text) in try addon.chartFiles() {
                files["\(chartDirectory)/\(addon.name)/\(path)"] = text
            }
        }
        return files
    }

    /// `deploy/operator.yaml`, `charts/vectorblocks/...` and this library's shipped CRDs, both of which hold the same
    /// CRDs as `crds/`.
    public static func deploy(openAPIDocument: JSONValue) throws -> [String: String] {
        let package = OperatorPackage()
        let crds = try CRDGenerator(openAPIDocument: openAPIDocument).files()
        var files = [operatorManifestPath: try package.plainYAML()]
        for (path, text) in try package.chartFiles(crds: crds) {
            files["\(chartDirectory)/\(OperatorPackage.chartName)/\(path)"] = text
        }
        for (name, text) in crds { files["\(shippedCRDDirectory)/\(name)"] = text }
        return files
    }

    public static func loadOpenAPIDocument(repositoryRoot: URL) throws -> JSONValue {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent(openAPIDocumentPath))
        return try JSONValue.parse(data)
    }

    /// Writes `files` under `root`, creating folders, and returns the paths whose content changed.
    @discardableResult
    public static func write(_ files: [String: String], under root: URL) throws -> [String] {
        var changed: [String] = []
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let url = root.appendingPathComponent(path)
            if let existing = try? String(contentsOf: url, encoding: .utf8), existing == text { continue }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
            changed.append(path)
        }
        return changed
    }
}
