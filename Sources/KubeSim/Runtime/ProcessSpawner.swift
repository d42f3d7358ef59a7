import Foundation
import Synchronization

/// Starts every process of the runtime one at a time. Foundation closes, in each child, every descriptor open when
/// it prepares the spawn (its stand-in for close-on-exec by default), except the child's own; two spawns of the runtime
/// at once could still hand one child the other's pipes or exit-watch socket, opened in between, and a probe's end
/// would then never be seen while the container lives.
///
/// Nothing here marks the process's other descriptors close-on-exec: that raced with spawns elsewhere in the process
/// (a test's own programs, an exec credential plugin). Foundation watches a child through a socket pair whose child end
/// must survive the exec; marked close-on-exec between its creation and the spawn, it was gone in the child, the watch
/// fired at once, and Foundation's one monitor thread blocked in `waitpid` on a child still running, so no other exit
/// in the process was seen again (a CI run hung that way).
enum ProcessSpawner {
    private static let lock = Mutex(())

    static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
