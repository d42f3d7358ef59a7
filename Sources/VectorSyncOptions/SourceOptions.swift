import ArgumentParser
import Foundation
import Logging
import VectorSync

/// The flags `pelican` and `emu` share: the pipeline, its source table and the log level, each with a VECTORSYNC_*
/// environment fallback for the Deployment's env.
public struct SourceOptions: ParsableArguments {
    static let environment = ProcessInfo.processInfo.environment

    @Option(help: "The pipeline's name: names the trigger, the queue and the lock (env VECTORSYNC_PIPELINE).")
    public var pipeline: String = environment["VECTORSYNC_PIPELINE"] ?? ""

    @Option(help: "The source database's URI; prefer the environment for the password (env VECTORSYNC_SOURCE_URL).")
    public var sourceURL: String = environment["VECTORSYNC_SOURCE_URL"] ?? ""

    @Option(help: "`table` or `schema.table` (env VECTORSYNC_TABLE).")
    public var table: String = environment["VECTORSYNC_TABLE"] ?? ""

    @Option(
        name: .customLong("primary-key"),
        help:
            "A primary-key column; repeat for each column of a composite key, in the order that makes the vector's id (env VECTORSYNC_PRIMARY_KEY, comma-separated)."
    )
    public var primaryKey: [String] = (environment["VECTORSYNC_PRIMARY_KEY"] ?? "id").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
    }

    @Option(help: "The embedded text, with {column} placeholders (env VECTORSYNC_TEXT_TEMPLATE).")
    public var textTemplate: String = environment["VECTORSYNC_TEXT_TEMPLATE"] ?? ""

    @Option(name: .customLong("payload-column"), help: "A column copied into the payload; repeat for more.")
    public var payloadColumns: [String] = []

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: String = environment["VECTORSYNC_LOG_LEVEL"] ?? "info"

    public init() {}

    public func source() throws(ConfigurationError) -> SourceTable {
        try SourceTable(table: table, primaryKey: primaryKey, textTemplate: textTemplate, payloadColumns: payloadColumns.filter { !$0.isEmpty })
    }

    public func database() throws(ConfigurationError) -> PostgresEndpoint {
        try PostgresEndpoint(url: sourceURL, field: "--source-url (VECTORSYNC_SOURCE_URL)")
    }

    public func logger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}
