import Foundation

/// The image map entries that run a VectorPipeline's workers, `vectorblocks/pelican` and `vectorblocks/emu`, as the
/// `pelican` and `emu` executables this package builds (the playground's `--run-pods` and the tests), each as its
/// image in `deploy/docker/` runs it: the executable as the entrypoint, as the non-root user 65532.
public enum PipelineWorkerBinaries {
    /// `deploy/docker/`'s `USER 65532:65532`.
    public static let imageUser: UInt32 = 65532

    static let workers = ["pelican", "emu"]

    /// Both entries when `directory` (a build's products directory, such as `.build/debug`) holds both executables;
    /// nil otherwise.
    public static func find(in directory: String) -> [ImageMap.Entry]? {
        let bin = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        guard workers.allSatisfy({ FileManager.default.isExecutableFile(atPath: "\(bin)/\($0)") }) else { return nil }
        return workers.map { worker in
            ImageMap.Entry(
                repository: "vectorblocks/\(worker)", binDirectory: bin, entrypoint: ["\(bin)/\(worker)"], user: imageUser, group: imageUser)
        }
    }

    /// How to get them when they are not found.
    public static func howToGetThem(_ directory: String) -> String {
        "no pelican and emu executables in \(directory): build them with `swift build --product pelican --product emu`"
    }
}
