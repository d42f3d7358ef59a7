import AsyncHTTPClient
import Logging
import ObjectStorage

/// The S3 bucket of a backup repository as the uploader is told it (flags or VB_BACKUP_* variables), with the
/// credentials of its environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or IRSA's web identity.
public struct RepositorySettings: Sendable, Hashable {
    public var bucket: String
    public var region: String
    public var endpoint: String?

    public init(bucket: String, region: String, endpoint: String?) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
    }

    public func client(environment: [String: String], http: HTTPClient = .shared, logger: Logger) throws -> S3Client {
        guard let credentials = AWSCredentialProvider.environmentProvider(environment, region: region, http: http) else {
            throw BackupFailure(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the repository's credentials Secret), or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (IRSA)"
            )
        }
        return S3Client(bucket: bucket, region: region, endpoint: endpoint, credentials: credentials, http: http, logger: logger)
    }

    /// The same settings as the uploader's flags, for a command PostgreSQL runs (restore_command, archive_command).
    public var arguments: [String] {
        ["--bucket", bucket, "--region", region] + (endpoint.map { ["--endpoint", $0] } ?? [])
    }
}

/// A command line PostgreSQL runs through the shell, each word quoted.
public func shellCommand(_ words: [String]) -> String {
    words.map { word in
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=%".contains($0) } ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }.joined(separator: " ")
}
