import Foundation

/// A secret the pipeline is given (an API key): from a file, as a mounted Secret is, or else from an environment
/// variable; nil when neither is set. The value never appears in an error.
public enum SecretValue {
    public static func read(
        file: String?, environmentVariable: String, field: String, environment: [String: String]
    ) throws(ConfigurationError) -> String? {
        if let file, !file.isEmpty {
            do {
                return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ConfigurationError(field: field, problem: "the file \(file) cannot be read", fix: "mount the Secret at that path")
            }
        }
        return environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    }
}
