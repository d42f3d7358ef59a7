import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the process runtime needs of the host, checked before a server starts so that a missing piece is named at
/// once rather than as a pod that never runs.
enum HostRequirements {
    /// The programs the runtime runs, with the Debian package that has each.
    static let programs: [(name: String, package: String)] = [
        ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("setpriv", "util-linux"),
        ("mount", "mount"), ("chroot", "coreutils"), ("env", "coreutils"), ("sh", "dash"),
    ]

    /// What is missing, each with how to get it; empty when pods can run as processes.
    static func missing(imageMap: ImageMap) -> [String] {
        var missing: [String] = []
        #if os(Linux)
        if geteuid() != 0 && !hasCapabilities() {
            missing.append("run as root, or with CAP_SYS_ADMIN and CAP_NET_ADMIN (network and mount namespaces need them)")
        }
        #else
        missing.append("Linux: pods run in Linux network and mount namespaces")
        #endif
        for program in programs where HostCommand.resolve(program.name) == program.name {
            missing.append("`\(program.name)` is not on PATH (apt-get install \(program.package))")
        }
        if !FileManager.default.fileExists(atPath: "/proc/self/ns/net") {
            missing.append("/proc/self/ns/net: the kernel must support network namespaces")
        }
        for entry in imageMap.entries where !FileManager.default.fileExists(atPath: entry.binDirectory) {
            missing.append("image map entry \(entry.repository): bin directory \(entry.binDirectory) does not exist")
        }
        return missing
    }

    /// CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) in the effective set, read from /proc/self/status.
    private static func hasCapabilities() -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        let needed: UInt64 = (1 << 12) | (1 << 21)
        return mask & needed == needed
    }
}
