import KubeKit

/// A Cluster's backup schedule (KubeBlocks' ClusterBackup, `spec.backup`): a Backup each time the cron expression
/// fires, each kept for the retention period, except that the newest completed one is never deleted.
public struct ClusterBackup: Codable, Sendable, Hashable, SchemaDescribed {
    public var enabled: Bool?
    public var method: BackupMethod
    /// Five fields, UTC (`0 3 * * *`: every day at 03:00).
    public var cronExpression: String
    /// `7d`, `12h`, `90m`.
    public var retentionPeriod: String?
    public var repository: BackupRepository
    /// Point-in-time recovery: continuous archiving between backups (`pg-basebackup` only: the pods archive their WAL).
    public var pitrEnabled: Bool?

    public init(
        enabled: Bool? = nil, method: BackupMethod, cronExpression: String, retentionPeriod: String? = nil, repository: BackupRepository,
        pitrEnabled: Bool? = nil
    ) {
        self.enabled = enabled
        self.method = method
        self.cronExpression = cronExpression
        self.retentionPeriod = retentionPeriod
        self.repository = repository
        self.pitrEnabled = pitrEnabled
    }

    public static let schema = Schema.object(
        [
            "enabled": Schema.boolean.defaulting(to: true),
            "method": .string(oneOf: BackupMethod.self),
            "cronExpression": .string(minLength: 9),
            "retentionPeriod": Schema.string(pattern: "^([0-9]+[dhm])+$").defaulting(to: "7d"),
            "repository": .of(BackupRepository.self),
            "pitrEnabled": Schema.boolean.defaulting(to: false),
        ], required: ["method", "cronExpression", "repository"])

    /// The schema's defaults, as the API server fills them in.
    func withDefaults() -> ClusterBackup {
        var copy = self
        copy.enabled = copy.enabled ?? true
        copy.retentionPeriod = copy.retentionPeriod ?? "7d"
        copy.pitrEnabled = copy.pitrEnabled ?? false
        return copy
    }

    public var retention: RetentionPeriod {
        RetentionPeriod(retentionPeriod ?? "7d") ?? RetentionPeriod("7d")!
    }

    func validate(at path: FieldPath, engine: String) -> [FieldError] {
        var errors: [FieldError] = []
        if method.engine != engine {
            errors.append(
                FieldError(
                    field: path.child("method").description,
                    message: "Unsupported value: \"\(method.rawValue)\": it backs up \(method.engine), not \(engine)",
                    fix: "use a method of this engine: \(BackupMethod.allCases.filter { $0.engine == engine }.map(\.rawValue).joined(separator: ", "))"
                        + " (none yet for \(engine) means it cannot be backed up yet: remove spec.backup)"))
        }
        do {
            _ = try CronSchedule(cronExpression)
        } catch {
            errors.append(
                FieldError(
                    field: path.child("cronExpression").description, message: "Invalid value: \(error.description)",
                    fix: "write five fields, e.g. \"0 3 * * *\" for every day at 03:00 UTC"))
        }
        if let retentionPeriod, RetentionPeriod(retentionPeriod) == nil {
            errors.append(
                FieldError(
                    field: path.child("retentionPeriod").description, message: "Invalid value: \"\(retentionPeriod)\"",
                    fix: "write a number and a unit d, h or m, e.g. \"7d\" or \"1d12h\""))
        }
        if pitrEnabled == true, method != .pgBasebackup {
            errors.append(
                FieldError(
                    field: path.child("pitrEnabled").description,
                    message: "Unsupported value: true: \(method.rawValue) has no continuous archiving, so there is no point in time to recover to",
                    fix: "set pitrEnabled: false; each backup restores the state at its own time"))
        }
        if pitrEnabled == true, method == .pgBasebackup, repository.credentialsSecretName == nil, repository.roleArn == nil {
            errors.append(
                FieldError(
                    field: path.child("repository").child("credentialsSecretName").description,
                    message: "Required value: the pods archive their WAL themselves and need the repository's keys or an IAM role",
                    fix:
                        "name a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the Cluster's namespace, or set \(path.child("repository").child("roleArn")) to an IAM role for IRSA"
                ))
        }
        errors += repository.validate(at: path.child("repository"))
        return errors
    }
}

/// Makes a new Cluster from a Backup (`spec.restoreFrom`): the Backup must be Completed and of the same engine.
public struct ClusterRestore: Codable, Sendable, Hashable, SchemaDescribed {
    /// A Backup in the Cluster's namespace.
    public var backupName: String
    /// For a `pg-basebackup` Backup of a Cluster that archives its WAL: the time (RFC 3339) to replay to, after the
    /// backup's end. Without it, the restore is of the backup's own end.
    public var restoreToTime: String?

    public init(backupName: String, restoreToTime: String? = nil) {
        self.backupName = backupName
        self.restoreToTime = restoreToTime
    }

    public static let schema = Schema.object(
        [
            "backupName": .string(pattern: #"^[a-z0-9]([a-z0-9\.\-]*[a-z0-9])?$"#, maxLength: 253),
            "restoreToTime": .string(format: "date-time"),
        ],
        required: ["backupName"]
    ).immutable(message: "restoreFrom is immutable: a Cluster is restored once, when it is made")
}

extension Cluster {
    /// The checks of `spec.backup` and `spec.restoreFrom`; `engine` is the ClusterDefinition's name.
    public func validateBackup(engine: String) -> [FieldError] {
        spec.backup?.validate(at: FieldPath("spec.backup"), engine: engine) ?? []
    }
}
