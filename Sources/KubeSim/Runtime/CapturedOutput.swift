import Foundation

/// A helper program's output, captured in a temporary file rather than a pipe: a pipe's write end can leak into a
/// container started at the same moment (Foundation's pipes are inherited), which would keep the pipe open for the
/// container's whole life and a reader waiting for its end.
struct CapturedOutput: ~Copyable {
    let path: String
    let handle: FileHandle

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("kube-sim-\(UUID().uuidString).out").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path) ?? FileHandle.nullDevice
    }

    /// What was written, once the program has ended; removes the file.
    consuming func text() -> String {
        try? handle.close()
        let data = FileManager.default.contents(atPath: path) ?? Data()
        try? FileManager.default.removeItem(atPath: path)
        return String(decoding: data, as: UTF8.self)
    }
}
