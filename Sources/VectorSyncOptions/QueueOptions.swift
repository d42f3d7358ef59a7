import ArgumentParser
import Foundation
import VectorSync

/// The queue between Pelican and Emu: the jobs table in the source database, or SQS (credentials from
/// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE as IRSA sets them).
public struct QueueOptions: ParsableArguments {
    static let environment = ProcessInfo.processInfo.environment

    @Option(help: "postgres or sqs (env VECTORSYNC_QUEUE).")
    public var queue: String = environment["VECTORSYNC_QUEUE"] ?? "postgres"

    @Option(
        help:
            "Receives after which the postgres queue dead-letters a message; default 5. An sqs queue's RedrivePolicy decides this itself (env VECTORSYNC_MAX_RECEIVE_COUNT)."
    )
    public var maxReceiveCount: Int?

    @Option(help: "The SQS queue's URL (env VECTORSYNC_SQS_QUEUE_URL).")
    public var sqsQueueURL: String = environment["VECTORSYNC_SQS_QUEUE_URL"] ?? ""

    @Option(help: "The SQS dead-letter queue's URL, for messages that can never succeed (env VECTORSYNC_SQS_DEAD_LETTER_QUEUE_URL).")
    public var sqsDeadLetterQueueURL: String = environment["VECTORSYNC_SQS_DEAD_LETTER_QUEUE_URL"] ?? ""

    @Option(help: "The SQS queue's region (env AWS_REGION).")
    public var awsRegion: String = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? ""

    public init() {}

    public func settings() throws(ConfigurationError) -> QueueSettings {
        try QueueSettings(
            kind: queue, maxReceiveCount: maxReceiveCount ?? Self.environment["VECTORSYNC_MAX_RECEIVE_COUNT"].flatMap(Int.init), sqsQueueURL: sqsQueueURL,
            sqsDeadLetterQueueURL: sqsDeadLetterQueueURL,
            region: awsRegion)
    }
}
