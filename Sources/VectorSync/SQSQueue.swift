import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The `sqs` queue: Amazon SQS over its JSON protocol (`X-Amz-Target: AmazonSQS.*`), signed with SigV4. Messages
/// are sent before the outbox transaction commits (at least once); receives long-poll; the queue's RedrivePolicy
/// moves a message to the dead-letter queue after `maxReceiveCount` receives. SQS cannot keep a failure's text, so
/// a release logs it.
public struct SQSQueue: ChangeQueue {
    public let queueURL: String
    public let deadLetterQueueURL: String?
    private let endpoint: String
    private let signer: AWSSignatureV4
    private let credentials: AWSCredentialProvider
    private let http: HTTPClient
    private let logger: Logger

    public init(
        queueURL: String, deadLetterQueueURL: String? = nil, region: String, credentials: AWSCredentialProvider, http: HTTPClient, logger: Logger
    ) throws(ConfigurationError) {
        guard let components = URLComponents(string: queueURL), let scheme = components.scheme, ["http", "https"].contains(scheme),
            let host = components.host
        else {
            throw ConfigurationError(
                field: "queue.sqs.queueURL", problem: "\"\(queueURL)\" is not a queue URL", fix: "write https://sqs.<region>.amazonaws.com/<account>/<queue>")
        }
        self.queueURL = queueURL
        self.deadLetterQueueURL = deadLetterQueueURL
        self.endpoint = "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")/"
        self.signer = AWSSignatureV4(region: region, service: "sqs")
        self.credentials = credentials
        self.http = http
        self.logger = logger
    }

    public func send(_ messages: [ChangeMessage], within transaction: PostgresConnection) async throws {
        try await send(messages)
    }

    public func send(_ messages: [ChangeMessage]) async throws {
        try await send(messages.map { $0.encoded() }, to: queueURL)
    }

    private func send(_ bodies: [String], to queue: String) async throws {
        for start in stride(from: 0, to: bodies.count, by: 10) {
            let chunk = bodies[start..<min(start + 10, bodies.count)]
            let entries: [JSONValue] = chunk.enumerated().map { index, body in
                .object(["Id": .string(String(index)), "MessageBody": .string(body)])
            }
            let answer = try await call("SendMessageBatch", ["QueueUrl": .string(queue), "Entries": .array(entries)])
            try Self.checkBatch(answer, action: "SendMessageBatch")
        }
    }

    public func receive(maxMessages: Int, visibility: Duration, wait: Duration) async throws -> [ReceivedMessage] {
        var messages: [ReceivedMessage] = []
        var waitSeconds = min(20, max(0, Int(wait.seconds.rounded(.up))))
        while messages.count < maxMessages {
            let answer = try await call(
                "ReceiveMessage",
                [
                    "QueueUrl": .string(queueURL), "MaxNumberOfMessages": .int(Int64(min(10, maxMessages - messages.count))),
                    "VisibilityTimeout": .int(Int64(max(0, Int(visibility.seconds.rounded(.up))))),
                    "WaitTimeSeconds": .int(Int64(waitSeconds)),
                    "MessageSystemAttributeNames": .array([.string("ApproximateReceiveCount")]),
                    "AttributeNames": .array([.string("ApproximateReceiveCount")]),
                ])
            guard case .object(let fields) = answer, case .array(let received) = fields["Messages"] ?? .array([]), !received.isEmpty else { break }
            for case .object(let message) in received {
                guard case .string(let body) = message["Body"] ?? .null, case .string(let receipt) = message["ReceiptHandle"] ?? .null else { continue }
                var count = 1
                if case .object(let attributes) = message["Attributes"] ?? .null, case .string(let text) = attributes["ApproximateReceiveCount"] ?? .null {
                    count = Int(text) ?? 1
                }
                messages.append(ReceivedMessage(body: body, receipt: receipt, receiveCount: count))
            }
            // Later calls only top the batch up with what is there already.
            waitSeconds = 0
        }
        return messages
    }

    public func delete(_ receipts: [String]) async throws {
        for start in stride(from: 0, to: receipts.count, by: 10) {
            let entries: [JSONValue] = receipts[start..<min(start + 10, receipts.count)].enumerated().map { index, receipt in
                .object(["Id": .string(String(index)), "ReceiptHandle": .string(receipt)])
            }
            let answer = try await call("DeleteMessageBatch", ["QueueUrl": .string(queueURL), "Entries": .array(entries)])
            try Self.checkBatch(answer, action: "DeleteMessageBatch")
        }
    }

    public func release(_ receipt: String, after delay: Duration, error: String) async throws {
        logger.warning("message released for a retry", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
        try await extendVisibility([receipt], by: delay)
    }

    /// Sets the visibility of messages in hand to `timeout` from now: longer for a batch that takes long, zero to
    /// hand them back. SQS caps it at 12 hours from the receive.
    public func extendVisibility(_ receipts: [String], by timeout: Duration) async throws {
        for start in stride(from: 0, to: receipts.count, by: 10) {
            let entries: [JSONValue] = receipts[start..<min(start + 10, receipts.count)].enumerated().map { index, receipt in
                .object([
                    "Id": .string(String(index)), "ReceiptHandle": .string(receipt),
                    "VisibilityTimeout": .int(Int64(min(43_200, Int(timeout.seconds.rounded(.up))))),
                ])
            }
            let answer = try await call("ChangeMessageVisibilityBatch", ["QueueUrl": .string(queueURL), "Entries": .array(entries)])
            try Self.checkBatch(answer, action: "ChangeMessageVisibilityBatch")
        }
    }

    public func deadLetter(_ message: ReceivedMessage, error: String) async throws {
        guard let deadLetterQueueURL else {
            throw ConfigurationError(
                field: "queue.sqs.deadLetterQueueURL", problem: "a message cannot be read and there is no dead-letter queue to put it in",
                fix: "set the dead-letter queue's URL (the one the queue's RedrivePolicy names)")
        }
        _ = try await call(
            "SendMessage",
            [
                "QueueUrl": .string(deadLetterQueueURL), "MessageBody": .string(message.body),
                "MessageAttributes": .object(["error": .object(["DataType": .string("String"), "StringValue": .string(String(error.prefix(1024)))])]),
            ])
        try await delete([message.receipt])
    }

    public func backlog() async throws -> Int {
        let answer = try await call(
            "GetQueueAttributes",
            [
                "QueueUrl": .string(queueURL),
                "AttributeNames": .array([.string("ApproximateNumberOfMessages"), .string("ApproximateNumberOfMessagesNotVisible")]),
            ])
        guard case .object(let fields) = answer, case .object(let attributes) = fields["Attributes"] ?? .null else { return 0 }
        return attributes.values.reduce(0) { total, value in
            if case .string(let text) = value { total + (Int(text) ?? 0) } else { total }
        }
    }

    /// One signed JSON-protocol call; SQS's error type and message otherwise (never a credential).
    func call(_ action: String, _ parameters: [String: JSONValue]) async throws -> JSONValue {
        let body = Array(JSONValue.object(parameters).canonicalJSON.utf8)
        guard let url = URL(string: endpoint), let host = url.host else { throw AWSError.refused(action: action, status: 0, message: "bad endpoint") }
        let hostHeader = url.port.map { "\(host):\($0)" } ?? host
        var headers = ["host": hostHeader, "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.\(action)"]
        let signature = signer.signingHeaders(
            method: "POST", path: "/", headers: headers, body: body, credentials: try await credentials.credentials())
        headers.merge(signature) { $1 }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(60), logger: logger)
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        let answer = (try? JSONValue.parse(text)) ?? .null
        guard response.status == .ok else {
            var message = text
            if case .object(let fields) = answer {
                let type = fields["__type"].flatMap { if case .string(let t) = $0 { t } else { nil } } ?? ""
                let detail = (fields["message"] ?? fields["Message"]).flatMap { if case .string(let m) = $0 { m } else { nil } } ?? ""
                message = "\(type) \(detail)".trimmingCharacters(in: .whitespaces)
            }
            throw AWSError.refused(action: action, status: Int(response.status.code), message: message)
        }
        return answer
    }

    static func checkBatch(_ answer: JSONValue, action: String) throws {
        guard case .object(let fields) = answer, case .array(let failed) = fields["Failed"] ?? .array([]), let first = failed.first else { return }
        var message = "\(failed.count) entries failed"
        if case .object(let entry) = first, case .string(let detail) = entry["Message"] ?? entry["Code"] ?? .null { message += ", e.g. \(detail)" }
        throw AWSError.refused(action: action, status: 200, message: message)
    }
}
