import Foundation

extension ModelGenerator {
    /// Writes the generated files into `directory` and removes any other Swift file there, so that a definition
    /// dropped from the roots does not leave a stale model behind. The directory belongs to the generator.
    public static func write(_ files: [GeneratedFile], to directory: URL) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        let wanted = Set(files.map(\.name))
        for existing in try fileManager.contentsOfDirectory(atPath: directory.path)
        where existing.hasSuffix(".swift") && !wanted.contains(existing) {
            try fileManager.removeItem(at: directory.appendingPathComponent(existing))
        }
        for file in files {
            try Data(file.contents.utf8).write(to: directory.appendingPathComponent(file.name), options: .atomic)
        }
    }
}
