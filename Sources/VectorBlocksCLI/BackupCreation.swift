import Foundation
import KubeKit
import VectorBlocksAPI

/// `kbctl cluster backup`'s flags, turned into a Backup of the Cluster: the method and repository come from the
/// Cluster's `spec.backup` (the repository written into the Backup, where it is immutable), and what the operator would only find out later (a method of another engine, no
/// repository, a PostgreSQL backup without keys for its Job) is refused here, naming the flag or field and the fix.
public struct BackupCreation: Sendable {
    public var cluster: String
    public var namespace: String
    public var name: String?
    public var method: String?
    public var deletionPolicy: String?

    public init(cluster: String, namespace: String, name: String? = nil, method: String? = nil, deletionPolicy: String? = nil) {
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.method = method
        self.deletionPolicy = deletionPolicy
    }

    /// `engine` is the Cluster's ClusterDefinition `spec.type` (`qdrant`, `postgresql`).
    public func backup(of source: Cluster, engine: String, now: Date = Date()) throws -> Backup {
        let method = try self.method(for: source, engine: engine)
        guard let repository = source.spec.backup?.repository else {
            throw CLIError(
                "cluster \"\(cluster)\" names no backup repository (spec.backup.repository): add one, e.g. kubectl patch cluster \(cluster) -n \(namespace) --type merge -p "
                    + "'{\"spec\":{\"backup\":{\"enabled\":false,\"method\":\"\(method.rawValue)\",\"cronExpression\":\"0 3 * * *\","
                    + "\"repository\":{\"bucket\":\"BUCKET\",\"region\":\"REGION\",\"credentialsSecretName\":\"SECRET\"}}}}' (enabled: false makes no schedule)"
            )
        }
        if method == .pgBasebackup, repository.credentialsSecretName == nil, repository.roleArn == nil {
            throw CLIError(
                "cluster \"\(cluster)\": spec.backup.repository.credentialsSecretName is empty; a pg-basebackup runs as a Job in the cluster and needs a Secret "
                    + "with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (create one and name it there) or an IAM role for IRSA (spec.backup.repository.roleArn)"
            )
        }
        let policy = try Self.policy(deletionPolicy)
        let backupName = name ?? Self.defaultName(cluster: cluster, now: now)
        return Backup(
            metadata: MetaV1.ObjectMeta(
                annotations: [BackupClusterSnapshot.annotation: try BackupClusterSnapshot.encoded(source)],
                labels: [Backup.clusterLabel: cluster], name: backupName, namespace: namespace),
            spec: BackupSpec(clusterName: cluster, backupMethod: method, repository: repository, deletionPolicy: policy))
    }

    /// The flag's method, else the schedule's, else the engine's only one.
    func method(for source: Cluster, engine: String) throws -> BackupMethod {
        let methods = BackupMethod.allCases.filter { $0.engine == engine }
        let names = methods.map(\.rawValue).joined(separator: ", ")
        if let text = method {
            guard let method = BackupMethod(rawValue: text) else {
                throw CLIError(
                    "--method \"\(text)\" is not a backup method; \(methods.isEmpty ? "this engine has none" : "cluster \"\(cluster)\" (\(engine)) takes \(names)")"
                )
            }
            guard method.engine == engine else {
                throw CLIError("--method \(text) backs up \(method.engine); cluster \"\(cluster)\" runs \(engine): use \(names.isEmpty ? "none" : names)")
            }
            return method
        }
        if let scheduled = source.spec.backup?.method, scheduled.engine == engine { return scheduled }
        guard let only = methods.first, methods.count == 1 else {
            throw CLIError(
                methods.isEmpty
                    ? "cluster \"\(cluster)\" runs \(engine), which has no backup method" : "--method: cluster \"\(cluster)\" takes \(names); name one")
        }
        return only
    }

    static func policy(_ text: String?) throws -> BackupDeletionPolicy {
        guard let text else { return .delete }
        guard let policy = BackupDeletionPolicy(rawValue: text) else {
            throw CLIError(
                "--deletion-policy \"\(text)\" is not one of \(BackupDeletionPolicy.allCases.map(\.rawValue).joined(separator: ", ")) (Delete removes the backup's data with it, Retain keeps it in the repository)"
            )
        }
        return policy
    }

    /// `<cluster>-backup-<yyyyMMddHHmmss>` in UTC; the schedule's own are `<cluster>-<yyyyMMddHHmm>`, so the two never
    /// collide.
    static func defaultName(cluster: String, now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "\(cluster)-backup-\(formatter.string(from: now))"
    }
}
