import Foundation

/// kbctl as a kubectl plugin, installed the way `kubectl cnpg` is: kubectl runs any `kubectl-<name>` on PATH for
/// `kubectl <name>`, and asks `kubectl_complete-<name>` for that plugin's completions. Both are links to the kbctl
/// executable, which looks at the name it was started by.
public enum KubectlPlugin {
    /// `kubectl vb`.
    public static let command = "kubectl-vb"
    /// What kubectl (1.26 and later) runs to complete `kubectl vb …`.
    public static let completer = "kubectl_complete-vb"

    /// Links `kubectl-vb` and `kubectl_complete-vb` in `directory` (made when missing) to `executable`, or copies it
    /// with `copy` (for a directory on another filesystem, or a kbctl that will move). An existing link is replaced;
    /// an existing file that is not a link is left alone unless `force`, since it may be another program. Returns the
    /// paths written.
    public static func install(executable: String, into directory: String, copy: Bool = false, force: Bool = false) throws -> [String] {
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CLIError("--dir \(directory): cannot create it (\(error.localizedDescription)); choose a directory you can write to")
        }
        var written: [String] = []
        for name in [command, completer] {
            let path = (directory as NSString).appendingPathComponent(name)
            let isLink = (try? files.destinationOfSymbolicLink(atPath: path)) != nil
            if isLink || files.fileExists(atPath: path) {
                guard isLink || force else {
                    throw CLIError("\(path) exists and is not a link to kbctl; remove it, or pass --force to replace it")
                }
                try files.removeItem(atPath: path)
            }
            do {
                if copy {
                    try files.copyItem(atPath: executable, toPath: path)
                } else {
                    try files.createSymbolicLink(atPath: path, withDestinationPath: executable)
                }
            } catch {
                throw CLIError("cannot write \(path): \(error.localizedDescription); choose another --dir")
            }
            written.append(path)
        }
        return written
    }

    /// Whether `directory` is one of `path`'s (a `PATH` value), the directories kubectl looks for plugins in.
    public static func isOnPath(_ directory: String, path: String?) -> Bool {
        let wanted = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        return (path ?? "").split(separator: ":").contains {
            URL(fileURLWithPath: String($0)).standardizedFileURL.resolvingSymlinksInPath().path == wanted
        }
    }
}
