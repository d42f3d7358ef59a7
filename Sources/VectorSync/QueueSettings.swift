import AsyncHTTPClient
import Logging
import PostgresNIO

/// Which queue carries a pipeline's change messages, as `pelican` and `emu` are told by flags: the jobs table in the
/// source database, or SQS with credentials from the environment (access keys, or the web identity IRSA gives).
public struct QueueSettings: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case postgres, sqs
    }

    public var kind: Kind
    /// Receives after which the postgres queue dead-letters a message. An SQS queue's own RedrivePolicy decides
    /// that, so it is refused there rather than ignored.
    public var maxReceiveCount: Int
    public var sqsQueueURL: String
    public var sqsDeadLetterQueueURL: String?
    public var region: String

    public init(
        kind: String, maxReceiveCount: Int?, sqsQueueURL: String = "", sqsDeadLetterQueueURL: String? = nil, region: String = ""
    ) throws(ConfigurationError) {
        guard let parsed = Kind(rawValue: kind) else {
            throw ConfigurationError(field: "--queue", problem: "\"\(kind)\" is not a queue", fix: "use postgres or sqs")
        }
        if let maxReceiveCount, maxReceiveCount < 1 {
            throw ConfigurationError(field: "--max-receive-count", problem: "\(maxReceiveCount) is below 1", fix: "give 1 or more (5 is usual)")
        }
        if parsed == .sqs {
            if maxReceiveCount != nil {
                throw ConfigurationError(
                    field: "--max-receive-count",
                    problem: "an sqs queue moves a message to its dead-letter queue by the queue's own RedrivePolicy",
                    fix: "set maxReceiveCount in the queue's RedrivePolicy and leave out --max-receive-count (VECTORSYNC_MAX_RECEIVE_COUNT)")
            }
            guard !sqsQueueURL.isEmpty else {
                throw ConfigurationError(
                    field: "--sqs-queue-url", problem: "the sqs queue needs its URL", fix: "give e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/changes")
            }
            guard !region.isEmpty else {
                throw ConfigurationError(field: "--aws-region", problem: "the sqs queue needs its region", fix: "give e.g. eu-west-1, or set AWS_REGION")
            }
        }
        self.kind = parsed
        self.maxReceiveCount = maxReceiveCount ?? 5
        self.sqsQueueURL = sqsQueueURL
        self.sqsDeadLetterQueueURL = sqsDeadLetterQueueURL.flatMap { $0.isEmpty ? nil : $0 }
        self.region = region
    }

    /// The queue of `pipeline`; the postgres one lives in the source database `database` reaches.
    public func makeQueue(
        pipeline: String, database: PostgresClient, http: HTTPClient, environment: [String: String], logger: Logger
    ) throws(ConfigurationError) -> any ChangeQueue {
        switch kind {
        case .postgres:
            return PostgresQueue(client: database, name: pipeline, maxReceiveCount: maxReceiveCount, logger: logger)
        case .sqs:
            return try SQSQueue(
                queueURL: sqsQueueURL, deadLetterQueueURL: sqsDeadLetterQueueURL, region: region,
                credentials: try AWSCredentialProvider.fromEnvironment(environment, region: region, http: http), http: http,
                logger: logger)
        }
    }
}
