import Foundation

/// How one container process is started: the shell script that runs as PID 1 of the container's new PID and mount
/// namespaces (inside the pod's network namespace), builds its root directory from read-only binds of the host's
/// system directories, the image's mapped directory and the pod's volumes, then `chroot`s into it and `exec`s the
/// command as the pod's user. Everything is a mount in the container's private mount namespace, so nothing of it is
/// seen on the host and all of it goes when the container's last process does.
struct ContainerLaunch: Sendable, Equatable {
    struct Mount: Sendable, Equatable {
        var hostPath: String
        var mountPath: String
        var readOnly: Bool
        /// A file rather than a directory (a `subPath` to a file, or the pod's /etc files).
        var isFile = false
    }

    /// Where the root file system is assembled (an empty host directory; a tmpfs is mounted on it).
    var rootDirectory: String
    /// Host directories to show read-only at the same path (the mapped image's directory).
    var imageDirectories: [String]
    var mounts: [Mount]
    var hostname: String
    var user: UInt32?
    var group: UInt32?
    var supplementalGroups: [UInt32]
    var workingDirectory: String
    var environment: [(String, String)]
    var argv: [String]
    /// `securityContext.readOnlyRootFilesystem`: the root is made read-only once every mount point exists.
    var readOnlyRoot = false

    static func == (lhs: ContainerLaunch, rhs: ContainerLaunch) -> Bool { lhs.script == rhs.script }

    /// The host's directories every container sees read-only (what an image's base layer would hold).
    static let systemDirectories = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "opt"]

    var script: String {
        let root = Self.quote(rootDirectory)
        var lines = [
            "#!/bin/sh",
            "# Written by kube-sim: assembles the container's root file system, then runs its command.",
            "set -e",
            "R=\(root)",
            "mount -t tmpfs -o mode=0755 kube-sim-root \"$R\"",
            "bind_ro() { mkdir -p \"$2\"; mount --rbind \"$1\" \"$2\"; mount -o remount,bind,ro \"$2\"; }",
        ]
        let overlaid = overlaidDirectories
        if !overlaid.isEmpty {
            // A system directory that must hold a new mount point: an overlay of the host's, whose upper layer (where
            // the mount points are made) is a tmpfs beside the root, read-only again once the mounts are made. One
            // mount, where binding each entry back took three processes per entry (about 400 for /etc).
            lines += [
                "L=\(Self.quote(rootDirectory + ".layers"))",
                "mkdir -p \"$L\"",
                "mount -t tmpfs -o mode=0700 kube-sim-layers \"$L\"",
                "overlay_dir() { mkdir -p \"$L$1/upper\" \"$L$1/work\" \"$R$1\"; "
                    + "mount -t overlay overlay -o \"lowerdir=$1,upperdir=$L$1/upper,workdir=$L$1/work\" \"$R$1\"; }",
            ]
        }
        for directory in Self.systemDirectories {
            let host = "/" + directory
            if overlaid.contains(host) {
                lines.append("overlay_dir \(Self.quote(host))")
                continue
            }
            lines.append("if [ -L \(host) ]; then ln -s \"$(readlink \(host))\" \"$R\(host)\"; elif [ -d \(host) ]; then bind_ro \(host) \"$R\(host)\"; fi")
        }
        lines += [
            "mkdir -p \"$R/dev\" \"$R/proc\" \"$R/sys\" \"$R/tmp\" \"$R/run\" \"$R/var\" \"$R/home\" \"$R/root\"",
            "mount --rbind /dev \"$R/dev\"",
            // A container's own /dev/shm, 64 MiB as containerd's: shared memory a SIGKILLed process leaves behind (a
            // PostgreSQL's dynamic segments) goes with the container instead of filling the host's.
            "mkdir -p \"$R/dev/shm\" && mount -t tmpfs -o mode=1777,size=64m shm \"$R/dev/shm\"",
            "mount -t proc proc \"$R/proc\"",
            "mount --rbind /sys \"$R/sys\"",
            "mount -t tmpfs -o mode=1777 tmpfs \"$R/tmp\"",
            "mount -t tmpfs -o mode=0755 tmpfs \"$R/run\"",
            "mount -t tmpfs -o mode=0755 tmpfs \"$R/var\"",
            "mkdir -p \"$R/var/tmp\" && chmod 1777 \"$R/var/tmp\" && ln -s ../run \"$R/var/run\"",
        ]
        // A directory under one the container already sees (or the root itself) is visible as it is.
        for directory in imageDirectories where !Self.isSystemPath(directory) {
            lines.append("bind_ro \(Self.quote(directory)) \"$R\"\(Self.quote(directory))")
        }
        for mount in mounts {
            let target = "\"$R\"\(Self.quote(mount.mountPath))"
            if mount.isFile {
                lines.append("mkdir -p \"$(dirname \(target))\"; [ -e \(target) ] || touch \(target)")
            } else {
                lines.append("mkdir -p \(target)")
            }
            lines.append("mount --bind \(Self.quote(mount.hostPath)) \(target)")
            if mount.readOnly { lines.append("mount -o remount,bind,ro \(target)") }
        }
        for directory in overlaid { lines.append("mount -o remount,ro \"$R\"\(Self.quote(directory))") }
        lines.append("printf '%s' \(Self.quote(hostname)) > /proc/sys/kernel/hostname")
        lines.append("mkdir -p \"$R\"\(Self.quote(workingDirectory)) 2>/dev/null || true")
        if readOnlyRoot { lines.append("mount -o remount,ro \"$R\"") }
        var exec = ["exec", "chroot", "\"$R\""]
        if let user {
            exec += ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(group ?? 0)"]
            exec.append(supplementalGroups.isEmpty ? "--clear-groups" : "--groups=" + supplementalGroups.map(String.init).joined(separator: ","))
            exec.append("--")
        }
        exec += ["/usr/bin/env", "-i", "-C", Self.quote(workingDirectory)]
        exec += environment.map { Self.quote("\($0.0)=\($0.1)") }
        exec += argv.map(Self.quote)
        lines.append(exec.joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The host's system directories (such as /etc) that must hold a mount point they lack: a mount path the host
    /// does not have under a directory the container sees read-only.
    var overlaidDirectories: [String] {
        var result: [String] = []
        for mount in mounts where !exists(mount.mountPath) {
            guard let top = mount.mountPath.split(separator: "/").first, Self.systemDirectories.contains(String(top)) else { continue }
            let directory = "/" + top
            if isDirectory(directory), !result.contains(directory) { result.append(directory) }
        }
        return result
    }

    /// How the host's file system is seen (replaceable in tests).
    var exists: @Sendable (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    var isDirectory: @Sendable (String) -> Bool = { path in
        var directory: ObjCBool = false
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return attributes?[.type] as? FileAttributeType == .typeDirectory
            && FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func isSystemPath(_ path: String) -> Bool {
        guard let top = path.split(separator: "/").first else { return true }
        return systemDirectories.contains(String(top))
    }

    /// A word for sh, in single quotes.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
