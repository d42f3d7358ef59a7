import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Starts every process of the runtime, one at a time, and then marks every descriptor of the server close-on-exec.
/// Foundation leaves descriptors it opens for a child (its pipes, what it watches the child's end through) open
/// across later spawns; a container started while a probe runs would inherit the probe's and hold them for its whole
/// life, so the probe's end would never be seen. Spawning one at a time and closing what the next child must not
/// inherit keeps each child's descriptors its own.
enum ProcessSpawner {
    private static let lock = Mutex(())

    static func run(_ process: Process) throws {
        try lock.withLock { _ in
            try process.run()
            markDescriptorsCloseOnExec()
        }
    }

    private static func markDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let descriptor = Int32(entry), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}
