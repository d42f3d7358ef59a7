/// This release of VectorBlocks and the images it is built into (`deploy/docker/`): the operator's manifests and the
/// workers it runs for a VectorPipeline default to these, so an operator upgrade moves its pipelines with it.
public enum Release {
    public static let version = "0.1.0"
    public static let registry = "docker.io"
    public static let operatorRepository = "vectorblocks/vectorblocks-operator"
    public static let pelicanRepository = "vectorblocks/pelican"
    public static let emuRepository = "vectorblocks/emu"
    public static let backupRepository = "vectorblocks/backup"

    /// `docker.io/<repository>:<version>`.
    public static func image(_ repository: String) -> String { "\(registry)/\(repository):\(version)" }
}
