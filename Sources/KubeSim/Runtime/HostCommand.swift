import Foundation
import ProcessSpawning

/// A helper program the process runtime runs on the host (`ip`, `mount`, ...), awaited without blocking a thread.
struct HostCommand: Sendable {
    var executable: String
    var arguments: [String]

    init(_ executable: String, _ arguments: String...) {
        self.executable = executable
        self.arguments = arguments
    }

    init(_ executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs the command; throws with its standard error when it fails. Returns its standard output.
    @discardableResult
    func run() async throws(PodRuntimeError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.resolve(executable))
        process.arguments = arguments
        let output = CapturedOutput()
        let errors = CapturedOutput()
        process.standardOutput = output.handle
        process.standardError = errors.handle
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try ProcessSpawner.run(process) } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
        let out = output.text()
        let err = errors.text()
        guard status == 0 else {
            throw PodRuntimeError.hostCommandFailed(commandLine, err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return out
    }

    /// The program's path: as given when it has a slash, else the first match on the server's PATH.
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }
}

public enum PodRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host cannot run pods as processes; the text names what is missing and how to get it.
    case requirementsMissing([String])
    case hostCommandFailed(String, String)
    case noAddressRange(String)

    public var description: String {
        switch self {
        case .requirementsMissing(let missing):
            "the process pod runtime cannot start: " + missing.joined(separator: "; ")
        case .hostCommandFailed(let command, let error): "`\(command)` failed: \(error.isEmpty ? "no message" : error)"
        case .noAddressRange(let why): "no pod network could be claimed: \(why)"
        }
    }
}
