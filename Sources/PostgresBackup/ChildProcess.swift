import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
import ProcessSpawning
#endif

/// A program this library drives (pg_basebackup, tar) with its standard input or output on a pipe the caller
/// streams through, and its standard error kept for the error message. Every blocking call (read, write, wait)
/// runs on a Dispatch thread, never on Swift's cooperative pool, which the S3 client's event loop shares.
final class ChildProcess: @unchecked Sendable {
    enum Stream: Sendable {
        /// The caller reads the program's standard output from `outputDescriptor`.
        case readOutput
        /// The caller writes the program's standard input to `inputDescriptor`.
        case writeInput
    }

    let name: String
    private let process: Process
    private let outputPipe: Pipe?
    private let inputPipe: Pipe?
    private let errorPipe: Pipe
    private let collectedError = DispatchGroupBox()
    /// Left when the program exits: Process.waitUntilExit polls a run loop, which spins on a thread that has none.
    private let exited: DispatchGroup

    init(executable: String, arguments: [String], environment: [String: String]? = nil, stream: Stream) throws {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let errorPipe = Pipe()
        process.standardError = errorPipe
        let outputPipe: Pipe? = stream == .readOutput ? Pipe() : nil
        let inputPipe: Pipe? = stream == .writeInput ? Pipe() : nil
        if let outputPipe {
            process.standardOutput = outputPipe
            process.standardInput = FileHandle.nullDevice
        }
        if let inputPipe {
            process.standardInput = inputPipe
            process.standardOutput = FileHandle.standardError
        }
        let exited = DispatchGroup()
        exited.enter()
        process.terminationHandler = { _ in exited.leave() }
        do {
            try ProcessSpawner.run(process)
        } catch {
            throw BackupFailure("\(name) could not be started (\(executable)): \(error)")
        }
        self.exited = exited
        self.name = name
        self.process = process
        self.errorPipe = errorPipe
        self.outputPipe = outputPipe
        self.inputPipe = inputPipe
        // Our copies of the child's ends are closed, so end of file and broken pipes reach the right side.
        outputPipe?.fileHandleForWriting.closeFile()
        inputPipe?.fileHandleForReading.closeFile()
        let errorHandle = errorPipe.fileHandleForReading
        collectedError.collect(from: errorHandle)
    }

    var outputDescriptor: Int32 { outputPipe?.fileHandleForReading.fileDescriptor ?? -1 }
    var inputDescriptor: Int32 { inputPipe?.fileHandleForWriting.fileDescriptor ?? -1 }

    /// Ends the program's standard input (it sees end of file).
    func closeInput() {
        inputPipe?.fileHandleForWriting.closeFile()
    }

    /// Stops the program, for when the other side of the stream failed: SIGKILL, because a program started from a
    /// Dispatch thread inherits its blocked signals, SIGTERM among them.
    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the program to exit; returns its exit status and what it wrote to standard error.
    func wait() async -> (status: Int32, standardError: String) {
        let process = self.process
        let errorText = collectedError
        let exited = self.exited
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                exited.wait()
                continuation.resume(returning: (process.terminationStatus, errorText.text()))
            }
        }
    }
}

/// Standard error read to its end on a Dispatch thread; `text()` waits until it is.
final class DispatchGroupBox: @unchecked Sendable {
    private let group = DispatchGroup()
    private var data = Data()

    func collect(from handle: FileHandle) {
        group.enter()
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func text() -> String {
        group.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
