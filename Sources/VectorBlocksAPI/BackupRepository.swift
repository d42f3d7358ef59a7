import Foundation
import KubeKit

/// Where backups are kept: a prefix of an S3 bucket (KubeBlocks' BackupRepo, inline). Credentials come from a
/// Secret in the Cluster's namespace, or from an IAM role the pods that move the bytes assume through IRSA
/// (`roleArn`); the operator's own reads use the Secret, or without one its own IAM role, as SQS queues do.
public struct BackupRepository: Codable, Sendable, Hashable, SchemaDescribed {
    public var bucket: String
    /// Keys start with `<prefix>/<namespace>/<cluster>/<backup>/`; empty puts them at the bucket's root.
    public var prefix: String?
    public var region: String
    /// An S3-compatible endpoint (`https://minio.example:9000`), addressed path-style; AWS's when empty.
    public var endpoint: String?
    /// A Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    public var credentialsSecretName: String?
    /// An IAM role (`arn:aws:iam::123456789012:role/backups`) the backup, restore and WAL archiving pods assume with
    /// a web-identity token of the ServiceAccount `<cluster>-backup` (IRSA), instead of keys from a Secret.
    public var roleArn: String?

    public init(
        bucket: String, prefix: String? = nil, region: String, endpoint: String? = nil, credentialsSecretName: String? = nil,
        roleArn: String? = nil
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.endpoint = endpoint
        self.credentialsSecretName = credentialsSecretName
        self.roleArn = roleArn
    }

    /// An IAM role's ARN in any partition (aws, aws-cn, aws-us-gov): the account's 12 digits, then `role/` and the
    /// role's path and name.
    static let roleArnPattern = #"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"#

    static let bucketPattern = #"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"#
    static let regionPattern = #"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"#

    public static let schema = Schema.object(
        [
            "bucket": .string(pattern: bucketPattern, minLength: 3, maxLength: 63),
            "prefix": .string(pattern: #"^[^/].*[^/]$|^[^/]?$"#, maxLength: 512),
            "region": .string(pattern: regionPattern),
            "endpoint": .string(pattern: "^https?://"),
            "credentialsSecretName": .string(pattern: #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#, maxLength: 253),
            "roleArn": .string(pattern: roleArnPattern, maxLength: 2048),
        ], required: ["bucket", "region"])

    /// The key prefix of one backup's objects, ending in `/`.
    public func keyPrefix(namespace: String, cluster: String, backup: String) -> String {
        [prefix ?? "", namespace, cluster, backup].filter { !$0.isEmpty }.joined(separator: "/") + "/"
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if bucket.range(of: Self.bucketPattern, options: .regularExpression) == nil || bucket.contains("..") {
            errors.append(
                FieldError(
                    field: path.child("bucket").description, message: "Invalid value: \"\(bucket)\": not an S3 bucket name",
                    fix: "use 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit"))
        }
        if region.range(of: Self.regionPattern, options: .regularExpression) == nil {
            errors.append(
                FieldError(
                    field: path.child("region").description, message: "Invalid value: \"\(region)\": not an AWS region",
                    fix: "give the bucket's region, e.g. eu-west-1"))
        }
        if let prefix, prefix.hasPrefix("/") || prefix.hasSuffix("/") {
            errors.append(
                FieldError(
                    field: path.child("prefix").description, message: "Invalid value: \"\(prefix)\": must not start or end with '/'",
                    fix: "write the prefix without its slashes, e.g. \"backups/prod\""))
        }
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            errors.append(
                FieldError(
                    field: path.child("endpoint").description, message: "Invalid value: \"\(endpoint)\": not an http(s) URL",
                    fix: "write e.g. https://minio.example:9000, or leave endpoint out for AWS"))
        }
        if let roleArn, roleArn.range(of: Self.roleArnPattern, options: .regularExpression) == nil {
            errors.append(
                FieldError(
                    field: path.child("roleArn").description, message: "Invalid value: \"\(roleArn)\": not an IAM role's ARN",
                    fix: "write arn:aws:iam::<12-digit account>:role/<name>, e.g. arn:aws:iam::123456789012:role/vectorblocks-backups"))
        }
        if roleArn != nil, credentialsSecretName != nil {
            errors.append(
                FieldError(
                    field: path.child("roleArn").description,
                    message:
                        "Forbidden: roleArn and \(path.child("credentialsSecretName").description) are both set; the pods would not know which credentials to use",
                    fix: "keep one: roleArn for IRSA, or credentialsSecretName for keys from a Secret"))
        }
        return errors
    }
}
