import PipelineFixtures
import TestSupport

extension DeploymentProcess {
    /// The container as a background program of this package, as its pod would run it.
    func start() throws -> BackgroundProgram {
        try BackgroundProgram.start(product, arguments, environment: environment)
    }
}
