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
            // A read-only host directory that must hold a new mount point: a tmpfs over it with each entry bound back.
            "split_dir() { t=\"$R$1\"; mount -t tmpfs -o mode=0755 tmpfs \"$t\"; for e in \"$1\"/* \"$1\"/.[!.]*; do "
                + "[ -e \"$e\" ] || [ -L \"$e\" ] || continue; n=\"$t/${e##*/}\"; "
                + "if [ -L \"$e\" ]; then cp -P \"$e\" \"$n\"; elif [ -d \"$e\" ]; then bind_ro \"$e\" \"$n\"; "
                + "else touch \"$n\"; mount --bind \"$e\" \"$n\"; mount -o remount,bind,ro \"$n\"; fi; done; }",
        ]
        for directory in Self.systemDirectories {
            let host = "/" + directory
            lines.append("if [ -L \(host) ]; then ln -s \"$(readlink \(host))\" \"$R\(host)\"; elif [ -d \(host) ]; then bind_ro \(host) \"$R\(host)\"; fi")
        }
        lines += [
            "mkdir -p \"$R/dev\" \"$R/proc\" \"$R/sys\" \"$R/tmp\" \"$R/run\" \"$R/var\" \"$R/home\" \"$R/root\"",
            "mount --rbind /dev \"$R/dev\"",
            // A container's own /dev/shm, 64 MiB as containerd's: shared memory a SIGKILLed process leaves behind (a
            // PostgreSQL's dynamic segments) goes with the container instead of filling the host's.
            "mount -t tmpfs -o mode=1777,size=64m shm \"$R/dev/shm\"",
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
        for directory in splitDirectories { lines.append("split_dir \(Self.quote(directory))") }
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

    /// The host directories shown read-only inside the container in which a mount point must be created: each
    /// existing ancestor of a mount path that the host does not have, parents first.
    var splitDirectories: [String] {
        var result: [String] = []
        for mount in mounts where !exists(mount.mountPath) {
            let components = mount.mountPath.split(separator: "/").map(String.init)
            guard let top = components.first, Self.systemDirectories.contains(top) else { continue }
            var path = ""
            for component in components.dropLast() {
                path += "/" + component
                guard isDirectory(path) else { break }
                if !result.contains(path) { result.append(path) }
            }
        }
        return result.sorted { $0.split(separator: "/").count < $1.split(separator: "/").count }
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
