import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A container's process tree: `nsenter` into the pod's network namespace, `unshare` of new mount, PID, UTS and IPC
/// namespaces, and the launch script as PID 1 there (which becomes the container's command). Killing PID 1 ends every
/// process of the container, as in a real container; `--kill-child` ends it should the server die.
final class ContainerProcess: Sendable {
    /// How a container's process ended, as the kubelet reports it.
    struct Exit: Sendable, Equatable {
        var code: Int32
        var signal: Int32?
        var reason: String { code == 0 ? "Completed" : "Error" }
    }

    let helperPID: Int32
    private let exits: AsyncStream<Exit>

    private init(helperPID: Int32, exits: AsyncStream<Exit>) {
        self.helperPID = helperPID
        self.exits = exits
    }

    /// Starts the script with its output (stdout and stderr, as a runtime interleaves them) appended to `logPath`.
    static func start(scriptPath: String, networkNamespace: String, logPath: String) throws(PodRuntimeError) -> ContainerProcess {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw PodRuntimeError.hostCommandFailed("open \(logPath)", "cannot write the container's log")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HostCommand.resolve("nsenter"))
        process.arguments = [
            "--net=\(networkNamespace)", "--", HostCommand.resolve("unshare"), "--mount", "--pid", "--uts", "--ipc", "--fork",
            "--kill-child", "--propagation", "private", "--", "/bin/sh", scriptPath,
        ]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let (exits, continuation) = AsyncStream<Exit>.makeStream(bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { finished in
            try? log.close()
            let signalled = finished.terminationReason == .uncaughtSignal
            let status = finished.terminationStatus
            // unshare passes on the child's status: a signal number above 128, or dies of the same signal itself.
            let signal: Int32? = signalled ? status : status > 128 ? status - 128 : nil
            continuation.yield(Exit(code: signalled ? 128 + status : status, signal: signal))
            continuation.finish()
        }
        do { try process.run() } catch {
            try? log.close()
            throw PodRuntimeError.hostCommandFailed("nsenter", "\(error)")
        }
        return ContainerProcess(helperPID: process.processIdentifier, exits: exits)
    }

    /// Waits for the container to end (one caller only).
    func waitForExit() async -> Exit {
        for await exit in exits { return exit }
        return Exit(code: 137, signal: SIGKILL)
    }

    /// The container's PID 1 as the host sees it; nil before `unshare` has forked it or after it ended.
    var initPID: Int32? {
        guard let children = try? String(contentsOfFile: "/proc/\(helperPID)/task/\(helperPID)/children", encoding: .utf8) else { return nil }
        return children.split(separator: " ").compactMap { Int32($0) }.first
    }

    /// Runs a command inside the container's namespaces and root, as its user (exec probes, preStop hooks, `kubectl
    /// exec`); ends it with SIGKILL after `timeout`. Returns the exit code and the output.
    func exec(_ argv: [String], user: UInt32?, group: UInt32?, environment: [(String, String)], timeout: Duration) async -> (Int32, String) {
        guard let pid = initPID else { return (-1, "the container is not running") }
        var arguments = ["-t", "\(pid)", "-m", "-n", "-p", "-u", "-i", "-r", "-w", "--"]
        if let user {
            arguments += ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(group ?? 0)", "--clear-groups", "--"]
        }
        arguments += ["/usr/bin/env", "-i"] + environment.map { "\($0.0)=\($0.1)" } + argv
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HostCommand.resolve("nsenter"))
        process.arguments = arguments
        let output = CapturedOutput()
        process.standardOutput = output.handle
        process.standardError = output.handle
        process.standardInput = FileHandle.nullDevice
        let (exits, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        do { try process.run() } catch {
            _ = output.text()
            return (-1, "\(error)")
        }
        let code = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { for await code in exits { return code }; return -1 }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            while let finished = await group.next() {
                if let code = finished {
                    group.cancelAll()
                    return code
                }
                // Timed out: kill it; its exit ends the other child.
                kill(process.processIdentifier, SIGKILL)
            }
            return Int32(-1)
        }
        return (code, output.text())
    }

    /// Sends a signal to PID 1; when it has not started yet, ends the helper (and so the container) outright.
    func send(_ signal: Int32) {
        if let pid = initPID {
            kill(pid, signal)
        } else {
            kill(helperPID, SIGKILL)
        }
    }
}
