import Dispatch
import Foundation
import ProcessSpawning
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// scripts/moto-fork-server.py, one per test process, started on first use: it imports moto once and forks a moto
/// server for each `MotoServer.start()`, where a moto_server started afresh spent half a CPU-second importing moto.
/// It ends, and its servers with it, when this process does (its stdin closes).
final class MotoForkServer: Sendable {
    static let shared = MotoForkServer()

    private struct Running {
        var process: Process
        var requests: FileHandle
        var answers: FileHandle
    }

    /// Held across a request and its answer, which are one line each.
    private let running = Mutex<Running?>(nil)

    /// A server forked to listen on `host`, already listening when this returns: its pid and port.
    func start(host: String) async throws -> (pid: pid_t, port: Int) {
        try await withCheckedThrowingContinuation { continuation in
            // The request and its answer block on a pipe: a Dispatch thread, not one of Swift's cooperative ones.
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let answer = try self.request("start \(host)", launching: true).split(separator: " ")
                        guard answer.count == 2, let pid = pid_t(answer[0]), let port = Int(answer[1]) else {
                            throw TestSetupError(
                                "the moto fork server answered \"\(answer.joined(separator: " "))\": run scripts/moto-fork-server.py with .cache/venv's python3 to see why"
                            )
                        }
                        return (pid, port)
                    })
            }
        }
    }

    /// Kills a server it forked and returns once it is reaped; nothing when the fork server, and so the server, is
    /// gone.
    func stop(pid: pid_t) {
        _ = try? request("stop \(pid)", launching: false)
    }

    private func request(_ line: String, launching: Bool) throws -> String {
        try running.withLock { running in
            if running?.process.isRunning != true {
                guard launching else { return "" }
                running = try Self.launch()
            }
            guard let server = running else { throw TestSetupError("the moto fork server did not start") }
            try server.requests.write(contentsOf: Data((line + "\n").utf8))
            return try Self.readLine(server.answers)
        }
    }

    private static func launch() throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestVenv.program("python3"))
        process.arguments = [repositoryFile("scripts/moto-fork-server.py").path]
        let requests = Pipe()
        let answers = Pipe()
        process.standardInput = requests
        process.standardOutput = answers
        // moto logs every request; the servers' callers see what went wrong in their answers.
        process.standardError = FileHandle.nullDevice
        try ProcessSpawner.run(process)
        return Running(process: process, requests: requests.fileHandleForWriting, answers: answers.fileHandleForReading)
    }

    private static func readLine(_ handle: FileHandle) throws -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(handle.fileDescriptor, &byte, 1)
            if count == 1, byte == UInt8(ascii: "\n") { break }
            if count == 1 {
                line.append(byte)
                continue
            }
            if count < 0, errno == EINTR { continue }
            break
        }
        return String(decoding: line, as: UTF8.self)
    }
}
