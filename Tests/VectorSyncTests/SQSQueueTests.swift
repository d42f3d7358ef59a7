import AsyncHTTPClient
import Foundation
import Logging
import TestSupport
import Testing

@testable import VectorSync

@Suite("SQS queue against moto")
struct SQSQueueTests {
    static let logger = Logger(label: "vectorsync.test.sqs")
    static let region = "us-east-1"

    @Test func signaturesMatchAWSsPublishedTestVector() {
        // AWS's Signature Version 4 test suite, "get-vanilla".
        let signer = AWSSignatureV4(region: "us-east-1", service: "service")
        let headers = signer.signingHeaders(
            method: "GET", path: "/", headers: ["Host": "example.amazonaws.com"], body: [],
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(headers["x-amz-date"] == "20150830T123600Z")
        #expect(
            headers["authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }

    /// A moto server with a queue whose RedrivePolicy sends a message to a dead-letter queue after two receives.
    static func withQueues(_ body: (SQSQueue, SQSQueue, MotoServer, HTTPClient) async throws -> Void) async throws {
        let moto = try await MotoServer.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), http: http)
            let admin = try SQSQueue(queueURL: moto.endpoint + "/123456789012/none", region: region, credentials: credentials, http: http, logger: logger)
            let dlqURL = try await createQueue(admin, name: "changes-dlq", attributes: [:])
            let arn = try await queueARN(admin, url: dlqURL)
            let queueURL = try await createQueue(
                admin, name: "changes", attributes: ["RedrivePolicy": #"{"deadLetterTargetArn": "\#(arn)", "maxReceiveCount": "2"}"#])
            let queue = try SQSQueue(queueURL: queueURL, deadLetterQueueURL: dlqURL, region: region, credentials: credentials, http: http, logger: logger)
            let deadLetters = try SQSQueue(queueURL: dlqURL, region: region, credentials: credentials, http: http, logger: logger)
            try await body(queue, deadLetters, moto, http)
        } catch {
            try? await http.shutdown()
            moto.stop()
            throw error
        }
        try await http.shutdown()
        moto.stop()
    }

    static func createQueue(_ client: SQSQueue, name: String, attributes: [String: String]) async throws -> String {
        let answer = try await client.call(
            "CreateQueue", ["QueueName": .string(name), "Attributes": .object(attributes.mapValues { .string($0) })])
        guard case .object(let fields) = answer, case .string(let url) = fields["QueueUrl"] ?? .null else {
            throw TestSetupError("CreateQueue answered \(answer)")
        }
        return url
    }

    static func queueARN(_ client: SQSQueue, url: String) async throws -> String {
        let answer = try await client.call("GetQueueAttributes", ["QueueUrl": .string(url), "AttributeNames": .array([.string("QueueArn")])])
        guard case .object(let fields) = answer, case .object(let attributes) = fields["Attributes"] ?? .null,
            case .string(let arn) = attributes["QueueArn"] ?? .null
        else { throw TestSetupError("GetQueueAttributes answered \(answer)") }
        return arn
    }

    static func messages(_ range: ClosedRange<Int64>) -> [ChangeMessage] {
        range.map { ChangeMessage(table: "public.products", pk: String($0), op: .update, seq: $0) }
    }

    @Test func batchesAreSentReceivedAndDeleted() async throws {
        try await Self.withQueues { queue, _, _, _ in
            try await queue.send(Self.messages(1...25))
            #expect(try await queue.backlog() == 25)
            var seen: [String] = []
            for _ in 0..<10 where seen.count < 25 {
                let batch = try await queue.receive(maxMessages: 12, visibility: .seconds(60), wait: .seconds(1))
                #expect(!batch.isEmpty && batch.count <= 12)
                seen += try batch.map { try ChangeMessage.decode($0.body).pk }
                try await queue.delete(batch.map(\.receipt))
            }
            #expect(Set(seen) == Set((1...25).map(String.init)))
            #expect(try await queue.backlog() == 0)
            #expect(try await queue.receive(maxMessages: 10, visibility: .seconds(60), wait: .zero).isEmpty)
        }
    }

    @Test func aMessageReleasedTooOftenIsRedrivenToTheDeadLetterQueue() async throws {
        try await Self.withQueues { queue, deadLetters, _, _ in
            try await queue.send(Self.messages(1...1))
            for attempt in 1...2 {
                let batch = try await queue.receive(maxMessages: 10, visibility: .seconds(60), wait: .seconds(1))
                #expect(batch.count == 1)
                #expect(batch.first?.receiveCount == attempt)
                // Hidden while in hand: a second receiver sees nothing.
                #expect(try await queue.receive(maxMessages: 10, visibility: .seconds(60), wait: .zero).isEmpty)
                try await queue.release(batch[0].receipt, after: .zero, error: "the embedder refused")
            }
            #expect(try await queue.receive(maxMessages: 10, visibility: .seconds(60), wait: .seconds(1)).isEmpty)
            let dead = try await deadLetters.receive(maxMessages: 10, visibility: .seconds(60), wait: .seconds(1))
            #expect(try dead.map { try ChangeMessage.decode($0.body).pk } == ["1"])
        }
    }

    @Test func thePipelineRunsThroughSQS() async throws {
        try await Self.withQueues { queue, _, _, _ in
            try await PipelineHarness.with(rows: 300) { harness in
                let pelican = try harness.pelican(queue: queue)
                let emu = try harness.emu(queue: queue)
                try await whileRunning([{ try await pelican.run() }, { try await emu.run() }]) {
                    try await harness.waitUntilSinkMatchesSource()
                    try await harness.execute("UPDATE products SET description = 'Through SQS.' WHERE id BETWEEN 1 AND 5")
                    try await harness.execute("DELETE FROM products WHERE id = 300")
                    try await harness.waitUntilSinkMatchesSource()
                    // Nothing went through the postgres queue.
                    #expect(try await harness.scalar("SELECT count(*) FROM vectorsync.jobs") == 0)
                    #expect(try await queue.backlog() == 0)
                }
            }
        }
    }

    @Test func webIdentityCredentialsComeFromSTS() async throws {
        try await Self.withQueues { queue, _, moto, http in
            let directory = try TemporaryDirectory()
            let tokenFile = directory.path + "/token"
            try "eyJhbGciOiJSUzI1NiJ9.test.token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let provider = try AWSCredentialProvider.fromEnvironment(
                ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/emu", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ENDPOINT_URL_STS": moto.endpoint],
                region: Self.region, http: http)
            let credentials = try await provider.credentials()
            #expect(!credentials.accessKeyID.isEmpty && credentials.sessionToken != nil && credentials.expiration != nil)
            #expect(try await provider.credentials() == credentials)
            let viaRole = try SQSQueue(queueURL: queue.queueURL, region: Self.region, credentials: provider, http: http, logger: Self.logger)
            try await viaRole.send(Self.messages(1...3))
            #expect(try await viaRole.backlog() == 3)

            #expect(throws: ConfigurationError.self) { try AWSCredentialProvider.fromEnvironment([:], region: Self.region, http: http) }
            let missing = try AWSCredentialProvider.fromEnvironment(
                ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/emu", "AWS_WEB_IDENTITY_TOKEN_FILE": directory.path + "/absent"],
                region: Self.region, http: http)
            await #expect(throws: AWSError.self) { try await missing.credentials() }
        }
    }
}
