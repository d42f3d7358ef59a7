import Foundation
import KubeKit
import VectorBlocksAPI

/// One kbctl invocation's connection and settings; every command is a method, so each is tested against a real
/// API server without a terminal.
public struct Session: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let format: OutputFormat
    /// The terminal's width when standard output is one; tables fit it.
    public let width: Int?

    public init(client: KubeClient, namespace: String? = nil, format: OutputFormat = .table, width: Int? = nil) {
        self.client = client
        self.namespace = namespace ?? client.defaultNamespace
        self.format = format
        self.width = width
    }

    /// Runs an API call, turning its failure into advice.
    func call<Value: Sendable>(
        _ resource: ResourceDescriptor, verb: String = "get", _ body: () async throws -> Value
    ) async throws -> Value {
        do {
            return try await body()
        } catch {
            throw CLIError.from(error, resource: resource, verb: verb)
        }
    }

    /// The printer of `command`'s output in this session's format; an error when the command cannot give it.
    func printer(_ command: KbctlCommand) throws -> Printer {
        Printer(format: try command.check(format.rawValue))
    }

    static func age(_ time: MetaV1.Time?, now: Date = Date()) -> String {
        guard let date = time?.date else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7_200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3_600)h" }
        return "\(seconds / 86_400)d"
    }

    static func timestamp(_ time: MetaV1.Time?) -> String {
        guard let date = time?.date else { return "<unknown>" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM dd,yyyy HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
