import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import ObjectStorage
import VectorBlocksAPI

/// The S3 client of a backup repository, with the credentials it names: the keys of its Secret (read from the API
/// server, never logged); its `roleArn`, assumed with the operator's own IRSA token when the operator has one; else the
/// operator's own IAM role (IRSA) or environment keys.
struct BackupStorage: Sendable {
    let client: KubeClient
    let http: HTTPClient
    let environment: [String: String]
    let logger: Logger

    /// The client, or why there is none in words naming `field` and the fix.
    func s3(_ repository: BackupRepository, namespace: String, field: String) async throws -> Result<S3Client, BackupWait> {
        let credentials: AWSCredentialProvider
        if let secretName = repository.credentialsSecretName {
            let secret: CoreV1.Secret
            do {
                secret = try await client.get(CoreV1.Secret.self, name: secretName, namespace: namespace)
            } catch let error as KubeAPIError where error.isNotFound {
                return .failure(
                    BackupWait(
                        "\(field).credentialsSecretName: Secret \"\(secretName)\" not found in \"\(namespace)\"; create it with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    ))
            }
            func value(_ key: String) -> String? {
                secret.data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            guard let keyID = value("AWS_ACCESS_KEY_ID"), let key = value("AWS_SECRET_ACCESS_KEY") else {
                return .failure(BackupWait("\(field).credentialsSecretName: Secret \"\(secretName)\" needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
            }
            credentials = AWSCredentialProvider(
                credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: key, sessionToken: value("AWS_SESSION_TOKEN")), http: http)
        } else if let role = repository.roleArn, let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !tokenFile.isEmpty,
            let assumed = AWSCredentialProvider.environmentProvider(
                environment.merging(["AWS_ROLE_ARN": role, "AWS_ROLE_SESSION_NAME": "vectorblocks-operator"]) { $1 }, region: repository.region,
                http: http)
        {
            // The operator's own IRSA token exchanged for the repository's role (whose trust policy then names the
            // operator's ServiceAccount too), so one role reaches the bucket for the pods and the operator alike.
            credentials = assumed
        } else if let own = AWSCredentialProvider.environmentProvider(environment, region: repository.region, http: http) {
            credentials = own
        } else {
            return .failure(
                BackupWait("\(field): the operator has no AWS credentials of its own (no IRSA role, no AWS_ACCESS_KEY_ID); set \(field).credentialsSecretName"))
        }
        return .success(
            S3Client(bucket: repository.bucket, region: repository.region, endpoint: repository.endpoint, credentials: credentials, http: http, logger: logger))
    }
}

/// Why a backup or a restore cannot go on yet, naming the field to change; it goes on by itself once that is done.
struct BackupWait: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}
