import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import PostgresNIO
import VectorBlocksAPI
import VectorSync

/// The operator's access to what a pipeline names outside its own objects: the user's Secrets (read from the API
/// server, not cached: the operator caches only what it labels) and the pipeline's state in the source database.
/// No value read here is ever logged or put in a status or an Event.
struct PipelineSource: Sendable {
    let client: KubeClient
    let logger: Logger
    /// Short, so a source that does not answer delays the status, not the controller.
    static let connectTimeout: Duration = .seconds(3)
    static let statementTimeout: Duration = .seconds(5)

    /// The value of `reference` in `namespace`, or why there is none, in words naming `field`.
    func secretValue(_ reference: SecretKeyRef, namespace: String, field: String) async throws -> Result<String, MissingSecret> {
        do {
            let secret = try await client.get(CoreV1.Secret.self, name: reference.name, namespace: namespace)
            guard let encoded = secret.data?[reference.key], let data = Data(base64Encoded: encoded) else {
                return .failure(MissingSecret(message: "\(field): Secret \"\(reference.name)\" has no key \"\(reference.key)\"; add it or name another key"))
            }
            return .success(String(decoding: data, as: UTF8.self))
        } catch let error as KubeAPIError where error.isNotFound {
            return .failure(
                MissingSecret(message: "\(field): Secret \"\(reference.name)\" not found in \"\(namespace)\"; create it, the pipeline waits for it"))
        }
    }

    /// Every Secret the workers read, besides the sinks' Cluster credentials: those missing, each naming its field.
    func missingSecrets(of pipeline: VectorPipeline, namespace: String) async throws -> (source: MissingSecret?, others: [String]) {
        let spec = pipeline.spec
        var source: MissingSecret?
        if case .failure(let missing) = try await secretValue(spec.source.connectionSecretRef, namespace: namespace, field: "spec.source.connectionSecretRef") {
            source = missing
        }
        var references: [(SecretKeyRef, String)] = []
        if let key = spec.embedder.openai?.apiKeySecretRef { references.append((key, "spec.embedder.openai.apiKeySecretRef")) }
        for (index, sink) in spec.sinks.enumerated() {
            if let key = sink.endpoint?.credentialsSecretRef { references.append((key, "spec.sinks[\(index)].endpoint.credentialsSecretRef")) }
        }
        if let name = spec.queue?.sqs?.credentialsSecretName {
            for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                references.append((SecretKeyRef(name: name, key: key), "spec.queue.sqs.credentialsSecretName"))
            }
        }
        var others: [String] = []
        for (reference, field) in references {
            if case .failure(let missing) = try await secretValue(reference, namespace: namespace, field: field) { others.append(missing.message) }
        }
        return (source, others)
    }

    /// Runs `body` on a connection to the source database named by the pipeline's Secret.
    func withSource<Value: Sendable>(
        _ pipeline: VectorPipeline, namespace: String, _ body: @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Result<Value, SourceUnreachable> {
        let uri: String
        switch try await secretValue(pipeline.spec.source.connectionSecretRef, namespace: namespace, field: "spec.source.connectionSecretRef") {
        case .failure(let missing): return .failure(SourceUnreachable(missing.message))
        case .success(let value): uri = value
        }
        var endpoint: PostgresEndpoint
        do {
            endpoint = try PostgresEndpoint(url: uri, field: "spec.source.connectionSecretRef")
        } catch {
            // The error names the field and the problem, never the URI.
            return .failure(SourceUnreachable("\(error)"))
        }
        endpoint.connectTimeout = Self.connectTimeout
        endpoint.statementTimeout = Self.statementTimeout
        do {
            return .success(try await endpoint.withConnection(logger: logger) { try await body($0) })
        } catch {
            return .failure(
                SourceUnreachable(
                    "spec.source.connectionSecretRef: the source database \(endpoint.host):\(endpoint.port)/\(endpoint.database) did not answer: \(Self.reason(error))"
                ))
        }
    }

    /// An `sqs` queue's backlog, SQS's ApproximateNumberOfMessages (plus those in flight), read with the pipeline's
    /// `credentialsSecretName` keys, or without one with the operator's own credentials (its IRSA role), as Emu's
    /// pods would. nil for a postgres queue, whose backlog the source state holds.
    func sqsBacklog(_ pipeline: VectorPipeline, namespace: String) async throws -> Result<Int64, SourceUnreachable>? {
        guard pipeline.spec.queue?.kind == .sqs, let sqs = pipeline.spec.queue?.sqs else { return nil }
        let credentials: AWSCredentialProvider
        if let secret = sqs.credentialsSecretName {
            let field = "spec.queue.sqs.credentialsSecretName"
            guard case .success(let keyID) = try await secretValue(SecretKeyRef(name: secret, key: "AWS_ACCESS_KEY_ID"), namespace: namespace, field: field),
                case .success(let key) = try await secretValue(SecretKeyRef(name: secret, key: "AWS_SECRET_ACCESS_KEY"), namespace: namespace, field: field)
            else { return .failure(SourceUnreachable("\(field): Secret \"\(secret)\" needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")) }
            credentials = AWSCredentialProvider(credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: key), http: .shared)
        } else {
            do {
                credentials = try AWSCredentialProvider.fromEnvironment(ProcessInfo.processInfo.environment, region: sqs.region, http: .shared)
            } catch {
                return .failure(SourceUnreachable("spec.queue.sqs: the operator has no AWS credentials of its own (\(error)); set credentialsSecretName"))
            }
        }
        do {
            let queue = try SQSQueue(queueURL: sqs.queueURL, region: sqs.region, credentials: credentials, http: .shared, logger: logger)
            return .success(Int64(try await queue.backlog()))
        } catch {
            return .failure(SourceUnreachable("spec.queue.sqs.queueURL: SQS did not give the backlog: \(error)"))
        }
    }

    /// PostgresNIO's description hides the server's message; `String(reflecting:)` shows it, but also the query,
    /// which never holds a secret here (values are bound, not spliced).
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError, let message = error.serverInfo?[.message] { return message }
        if let error = error as? PSQLError { return "\(error.code)" }
        return "\(error)"
    }
}

struct MissingSecret: Error, Sendable, Hashable {
    var message: String
}
