import Dispatch
import Foundation
import ProcessSpawning
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A program of this package run in the background as a pod runs it, its output in a log file, so a test can kill
/// it the way a node loses a container (SIGKILL, no chance to clean up) and start it again.
public final class BackgroundProgram: Sendable {
    public let name: String
    private let process: Process
    private let log: TemporaryDirectory

    public static func start(_ product: String, _ arguments: [String], environment: [String: String] = [:]) throws -> BackgroundProgram {
        let log = try TemporaryDirectory()
        let logPath = log.path + "/output.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProduct.path(product))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try ProcessSpawner.run(process)
        return BackgroundProgram(name: product, process: process, log: log)
    }

    private init(name: String, process: Process, log: TemporaryDirectory) {
        self.name = name
        self.process = process
        self.log = log
    }

    public var isRunning: Bool { process.isRunning }

    /// What the program printed so far.
    public var output: String {
        (try? String(contentsOfFile: log.path + "/output.log", encoding: .utf8)) ?? ""
    }

    /// Waits until the program has printed `text` (a line it prints when it reaches a state); fails with what it
    /// printed when it exits first or `patience` runs out.
    public func waitForOutput(_ text: String, patience: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + patience
        while !output.contains(text) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw TestSetupError("\(name) did not print \"\(text)\" (running: \(process.isRunning)); it printed:\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGKILL, then waits for the exit on a Dispatch thread (never on the cooperative pool).
    public func kill() async {
        guard process.isRunning else { return }
        killProcessTree(process.processIdentifier)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume()
            }
        }
    }

    /// SIGTERM, as the kubelet stops a container; the exit status, or nil (and SIGKILL) when the program has not
    /// exited within `patience`.
    public func terminate(patience: Duration = .seconds(60)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + patience
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            await kill()
            return nil
        }
        return process.terminationStatus
    }

    /// Runs `body` while `programs` run; when it fails, records the end of what each printed (the evidence of why a
    /// pipeline stalled, which the error alone does not show) before rethrowing.
    public static func reportingOutput<Result>(of programs: [BackgroundProgram], _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            for program in programs {
                Issue.record("\(program.name) (running: \(program.isRunning)) printed, at the end:\n\(program.output.suffix(12_000))")
            }
            throw error
        }
    }

    deinit {
        if process.isRunning { killProcessTree(process.processIdentifier) }
    }
}
