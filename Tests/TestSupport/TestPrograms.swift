import Dispatch
import Foundation
import ProcessSpawning

/// The test-time programs scripts/test.sh installs into `.cache/venv` (VB_TEST_VENV).
public enum TestVenv {
    public static func program(_ name: String) throws -> String {
        guard let venv = ProcessInfo.processInfo.environment["VB_TEST_VENV"], !venv.isEmpty else {
            throw TestSetupError(
                "VB_TEST_VENV is not set: run the tests with ./scripts/test.sh, which installs \(name) into .cache/venv and sets it")
        }
        let path = "\(venv)/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError(
                "\(path) is missing: delete .cache/venv and run ./scripts/test.sh to reinstall the test-time programs")
        }
        return path
    }
}

/// An executable product of this package, which `swift build --build-tests` (and so scripts/test.sh) builds next to
/// the test bundle.
public enum BuiltProduct {
    public static func path(_ name: String) throws -> String {
        let products = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent()
        let path = products.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("\(path) is missing: build every product first with `swift build --build-tests` (./scripts/test.sh does)")
        }
        return path
    }
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: String
}

/// Runs a program to completion, its stdout and stderr together in `output`. The wait happens on a Dispatch thread,
/// never on Swift's cooperative pool: on two cores a blocked pool thread would starve the in-process servers the
/// program talks to (KubeSim answering kubectl), and the test would deadlock.
public func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
    directory: URL = repositoryRoot
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                continuation.resume(returning: try runToCompletion(executable, arguments, environment: environment, directory: directory))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

private func runToCompletion(
    _ executable: String, _ arguments: [String], environment: [String: String]?, directory: URL
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try ProcessSpawner.run(process)
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}
