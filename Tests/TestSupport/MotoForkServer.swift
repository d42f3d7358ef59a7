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

    /// The fork server's pid, the parent of every server it forked; nil before the first fork.
    var pid: pid_t? { running.withLock { $0?.process.processIdentifier } }

    /// A moto server forked to listen on `host:port`: its pid.
    func fork(host: String, port: Int) async throws -> pid_t {
        try await withCheckedThrowingContinuation { continuation in
            // The request and its answer block on a pipe: a Dispatch thread, not one of Swift's cooperative ones.
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.forkBlocking(host: host, port: port) })
            }
        }
    }

    private func forkBlocking(host: String, port: Int) throws -> pid_t {
        try running.withLock { running in
            if running == nil || running?.process.isRunning == false { running = try Self.launch() }
            guard let server = running else { throw TestSetupError("the moto fork server did not start") }
            try server.requests.write(contentsOf: Data("\(host) \(port)\n".utf8))
            let answer = try Self.readLine(server.answers)
            guard let pid = pid_t(answer) else {
                throw TestSetupError(
                    "the moto fork server answered \"\(answer)\" instead of a pid: run scripts/moto-fork-server.py with .cache/venv's python3 to see why")
            }
            return pid
        }
    }

    private static func launch() throws -> Running {
        let python = try TestVenv.program("python3")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
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
