import VectorBlocksAPI

/// The images of the pipeline's workers: by default the operator's own release, as `deploy/docker/` builds them,
/// so an operator upgrade moves its pipelines with it; operator flags (and the chart's values) point elsewhere.
public struct PipelineImages: Sendable, Hashable {
    public var pelican: String
    public var emu: String
    public var pullPolicy: String?

    public static let release = PipelineImages(
        pelican: Release.image(Release.pelicanRepository), emu: Release.image(Release.emuRepository))

    public init(pelican: String, emu: String, pullPolicy: String? = nil) {
        self.pelican = pelican
        self.emu = emu
        self.pullPolicy = pullPolicy
    }
}
