import Foundation
import ProcessSpawning
import Testing

@testable import KubeSim

/// An exec probe looks for its child's end without reaping it: Foundation reaps its children by PID, and a PID freed
/// behind its back and reused by another child would block that wait, and every later `Process`, for good.
///
/// Each child leaves a `sleep` behind that holds Foundation's watch on it open, as a process started at the same
/// moment can: Foundation learns of the end only when the sleep ends, and the probe must see it before.
@Suite struct ChildExitTests {
    private func spawn(_ script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try ProcessSpawner.run(process)
        return process
    }

    private func ended(_ pid: Int32) async throws -> ContainerProcess.ChildState {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let state = ContainerProcess.peekExit(pid)
            if state != .running { return state }
            try await Task.sleep(for: .milliseconds(10))
        }
        return .running
    }

    /// The state letter of /proc/PID/stat: Z for a zombie nobody has reaped yet.
    private func state(of pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)]
    }

    @Test func anExitIsSeenAndTheChildLeftForFoundationToReap() async throws {
        let process = try spawn("sleep 3 & exit 3")
        #expect(try await ended(process.processIdentifier) == .exited(3))
        #expect(state(of: process.processIdentifier) == "Z", "seen ended and left a zombie for Foundation")
        process.waitUntilExit()
        #expect(process.terminationStatus == 3)
    }

    @Test func aKilledChildEndsWith128PlusTheSignal() async throws {
        let process = try spawn("sleep 3 & kill -9 $$")
        #expect(try await ended(process.processIdentifier) == .exited(128 + SIGKILL))
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    @Test func aChildFoundationReapedIsGone() async throws {
        let process = try spawn("exit 0")
        process.waitUntilExit()
        #expect(ContainerProcess.peekExit(process.processIdentifier) == .gone)
    }
}
