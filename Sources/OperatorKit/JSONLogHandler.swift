import Foundation
import KubeKit
import Logging

/// A swift-log handler that writes one JSON object per line, shaped like controller-runtime's zap output
/// (`level`, `ts`, `logger`, `msg`, then the metadata), so log pipelines built for Go operators parse it.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// Writes to standard error, where container runtimes collect logs.
    public init(label: String, logLevel: Logger.Level = .info) {
        self.init(label: label, logLevel: logLevel) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    public init(label: String, logLevel: Logger.Level = .info, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = logLevel
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "level": .string(Self.levelName(event.level)),
            "ts": .string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))),
            "logger": .string(label),
            "msg": .string(event.message.description),
        ]
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(metadata) { _, handler in handler }
        merged.merge(event.metadata ?? [:]) { _, call in call }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.json(value)
        }
        if event.level >= .error {
            fields["caller"] = .string("\(event.file.split(separator: "/").last ?? ""):\(event.line)")
        }
        write(JSONValue.object(fields).canonicalJSON)
    }

    /// zap's level names, so filters written for Go operators work.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error: "error"
        case .critical: "panic"
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let dictionary): .object(dictionary.mapValues(json))
        }
    }
}
