import Foundation
import Synchronization

/// Starts Foundation `Process`es one at a time, process-wide. Every spawn of a program that runs KubeSim's process
/// runtime (and everything the tests start beside it) goes through here.
///
/// Foundation watches each child through a socket pair whose child end is not close-on-exec, and closes in the child
/// only the descriptors that were open when it prepared the spawn. A socket pair (or pipe) another thread creates
/// between that moment and the spawn is inherited: a container started then held a test's `kubectl` watch socket for
/// its whole life, and the test waited minutes for an exit it had already had. The other remedy, marking the
/// process's descriptors close-on-exec after each spawn, raced the same way in reverse: a child lost its own watch end
/// at exec, Foundation's one monitor thread then blocked in `waitpid` on a child still running, and no exit was seen
/// again. With every spawn serialised, no watch socket or pipe exists half-made while another child is started.
public enum ProcessSpawner {
    private static let lock = Mutex(())

    public static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
