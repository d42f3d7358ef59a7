import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// SIGKILLs a process and every process below it, as a container's end does. (A test's child may ignore SIGTERM:
/// it inherits the test runner's ignored signals.)
public func killProcessTree(_ root: pid_t) {
    for child in childProcesses(of: root) { killProcessTree(child) }
    kill(root, SIGKILL)
}

/// The processes whose parent is `parent`, from /proc.
func childProcesses(of parent: pid_t) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry -> pid_t? in
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) state ppid": the fields following the command's closing parenthesis.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, pid_t(fields[1]) == parent else { return nil }
        return pid
    }
}
