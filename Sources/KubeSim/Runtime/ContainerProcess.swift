import Foundation
import ProcessSpawning
import Synchronization

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
    /// The last signal sent to PID 1: `unshare` cannot see how its child ended beyond "not zero", and a SIGKILLed
    /// container is reported as the kubelet does (137, signal 9).
    private let signalled: SentSignal

    private init(helperPID: Int32, exits: AsyncStream<Exit>, signalled: SentSignal) {
        self.helperPID = helperPID
        self.exits = exits
        self.signalled = signalled
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
        let box = SentSignal(Mutex(nil))
        process.terminationHandler = { finished in
            try? log.close()
            let bySignal = finished.terminationReason == .uncaughtSignal
            let status = finished.terminationStatus
            var signal: Int32? = bySignal ? status : status > 128 ? status - 128 : nil
            var code = bySignal ? 128 + status : status
            if code != 0, signal == nil, let sent = box.value, sent == SIGKILL {
                signal = sent
                code = 128 + sent
            }
            continuation.yield(Exit(code: code, signal: signal))
            continuation.finish()
        }
        do { try ProcessSpawner.run(process) } catch {
            try? log.close()
            throw PodRuntimeError.hostCommandFailed("nsenter", "\(error)")
        }
        return ContainerProcess(helperPID: process.processIdentifier, exits: exits, signalled: box)
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

    /// PID 1 once it runs the container's command in the container's root (the launch script has `chroot`ed);
    /// before that there is nothing to exec into.
    var runningPID: Int32? {
        guard let pid = initPID, let root = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"), root != "/" else { return nil }
        return pid
    }

    /// Runs a command inside the container's namespaces and root, as its user (exec probes, preStop hooks, `kubectl
    /// exec`); ends it with SIGKILL after `timeout`. Returns the exit code and the output.
    func exec(_ argv: [String], user: UInt32?, group: UInt32?, environment: [(String, String)], timeout: Duration) async -> (Int32, String) {
        guard let pid = runningPID else { return (-1, "the container is not running yet") }
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
        let finished = SentSignal(Mutex(nil))
        process.terminationHandler = { ended in finished.set(ended.terminationStatus) }
        do { try ProcessSpawner.run(process) } catch {
            _ = output.text()
            return (-1, "\(error)")
        }
        // Foundation does not always report the end of a short-lived child promptly (its watch on the child can be
        // held open by others), so the child's end is also looked for here, every 20 ms.
        let child = process.processIdentifier
        let deadline = ContinuousClock.now + timeout
        return (await Self.exitCode(of: child, reported: finished, deadline: deadline), output.text())
    }

    /// The child's exit code once Foundation reports it or it is seen to end; -1 when it is SIGKILLed at the deadline.
    private static func exitCode(of child: Int32, reported: SentSignal, deadline: ContinuousClock.Instant) async -> Int32 {
        while true {
            if let status = reported.value { return status }
            switch peekExit(child) {
            case .exited(let status): return status
            case .gone: return reported.value ?? -1
            case .running:
                if ContinuousClock.now > deadline {
                    kill(child, SIGKILL)
                    return -1
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    enum ChildState: Equatable {
        case running
        /// Ended, with the exit code as a shell reports it (128 + the signal for a killed child).
        case exited(Int32)
        /// Already reaped by Foundation.
        case gone
    }

    /// Whether a child has ended, without reaping it. Foundation reaps its own children with a blocking `waitpid` on
    /// their PID; a child reaped here instead frees its PID, and once the PID is reused by another child of this
    /// process (PIDs wrap at 32,768 here), Foundation's wait blocks on that unrelated process, and with it every
    /// `Process` of the server stops being reported. `WNOWAIT` leaves the reaping to Foundation.
    static func peekExit(_ child: Int32) -> ChildState {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return .gone }
        let fields = info._sifields._sigchld
        guard fields.si_pid == child else { return .running }
        return .exited(info.si_code == CLD_EXITED ? fields.si_status : 128 + fields.si_status)
    }

    /// Sends a signal to PID 1; when it has not started yet, ends the helper (and so the container) outright.
    func send(_ signal: Int32) {
        signalled.set(signal)
        if let pid = initPID {
            kill(pid, signal)
        } else {
            kill(helperPID, SIGKILL)
        }
    }
}

/// A number shared with a termination handler: the last signal sent to a container, an exec's exit status.
final class SentSignal: Sendable {
    private let signal: Mutex<Int32?>

    init(_ signal: consuming Mutex<Int32?>) { self.signal = signal }

    var value: Int32? { signal.withLock { $0 } }
    func set(_ value: Int32) { signal.withLock { $0 = value } }
}
