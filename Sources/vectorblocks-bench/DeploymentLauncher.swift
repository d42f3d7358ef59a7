import Foundation
import KubeKit
import PipelineFixtures

/// Starts a Deployment's replicas as local processes of this package's executables, configured as a kubelet would
/// configure its pods (`DeploymentProcess`), so the benchmark runs what the operator wrote.
struct DeploymentLauncher {
    let client: KubeClient
    /// Where the executables are: next to this benchmark.
    let productsDirectory: URL

    func start(_ deployment: AppsV1.Deployment, replicas: Int, extraArguments: [String]) async throws -> [Process] {
        let resolved = try await DeploymentProcess.resolve(deployment, client: client, extraArguments: extraArguments)
        let environment = ProcessInfo.processInfo.environment.merging(resolved.environment) { $1 }
        return try (0..<replicas).map { _ in
            let process = Process()
            process.executableURL = productsDirectory.appendingPathComponent(resolved.product)
            process.arguments = resolved.arguments
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
    }
}
