import KubeKit
import VectorBlocksAPI

/// How a container that moves a repository's bytes (a backup Job, WAL archiving, a restore) gets AWS credentials:
/// the keys of the repository's Secret, or the IAM role it names (`roleArn`) through IRSA, given as EKS's pod
/// identity webhook gives it: the pod runs under the Cluster's ServiceAccount `<cluster>-backup` (annotated with the
/// role), a projected token for the audience `sts.amazonaws.com` is mounted, and `AWS_ROLE_ARN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE` point vectorblocks-backup at them (it calls STS AssumeRoleWithWebIdentity).
enum BackupPodCredentials: Sendable, Hashable {
    case secret(String)
    case role(arn: String, region: String)

    /// The webhook's own names, so a pod it also sees is left as it is (it skips a volume and variables already there).
    static let tokenVolume = "aws-iam-token"
    static let tokenDirectory = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
    static let tokenFile = tokenDirectory + "/token"
    static let audience = "sts.amazonaws.com"
    /// The webhook's default: the kubelet renews the token at 80% of it, and STS sessions last an hour.
    static let tokenExpirationSeconds: Int64 = 86400

    /// The credentials a repository names, or nil when it names neither (the API refuses both at once).
    init?(_ repository: BackupRepository) {
        if let arn = repository.roleArn {
            self = .role(arn: arn, region: repository.region)
        } else if let secret = repository.credentialsSecretName {
            self = .secret(secret)
        } else {
            return nil
        }
    }

    var roleArn: String? {
        if case .role(let arn, _) = self { return arn }
        return nil
    }

    /// The variables of a container that runs vectorblocks-backup.
    var environment: [CoreV1.EnvVar] {
        switch self {
        case .secret(let secret):
            return UploaderTools.credentials(secret: secret)
        case .role(let arn, let region):
            return [
                CoreV1.EnvVar(name: "AWS_ROLE_ARN", value: arn), CoreV1.EnvVar(name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: Self.tokenFile),
                CoreV1.EnvVar(name: "AWS_REGION", value: region), CoreV1.EnvVar(name: "AWS_DEFAULT_REGION", value: region),
                CoreV1.EnvVar(name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional"),
            ]
        }
    }

    /// Gives one container of `spec` these credentials: its variables, and with a role the token's mount, the pod's
    /// projected token volume (added once) and the backup ServiceAccount.
    func apply(to container: inout CoreV1.Container, in spec: inout CoreV1.PodSpec, serviceAccount: String) {
        container.env = (container.env ?? []).filter { variable in !environment.contains { $0.name == variable.name } } + environment
        guard case .role = self else { return }
        if !(container.volumeMounts ?? []).contains(where: { $0.name == Self.tokenVolume }) {
            container.volumeMounts =
                (container.volumeMounts ?? []) + [CoreV1.VolumeMount(mountPath: Self.tokenDirectory, name: Self.tokenVolume, readOnly: true)]
        }
        if !(spec.volumes ?? []).contains(where: { $0.name == Self.tokenVolume }) {
            let token = CoreV1.ServiceAccountTokenProjection(audience: Self.audience, expirationSeconds: Self.tokenExpirationSeconds, path: "token")
            spec.volumes =
                (spec.volumes ?? []) + [
                    CoreV1.Volume(
                        name: Self.tokenVolume, projected: CoreV1.ProjectedVolumeSource(sources: [CoreV1.VolumeProjection(serviceAccountToken: token)]))
                ]
        }
        spec.serviceAccountName = serviceAccount
    }
}

/// The ServiceAccount `<cluster>-backup` the pods of a Cluster's backups, restores and WAL archiving run under when
/// their repository names an IAM role: IRSA trusts a role to a ServiceAccount (the role's trust policy names
/// `system:serviceaccount:<namespace>:<cluster>-backup`), and EKS's webhook reads the role from its annotation.
enum BackupServiceAccount {
    static let roleAnnotation = "eks.amazonaws.com/role-arn"

    static func name(cluster: String) -> String { "\(cluster)-backup" }

    static func build(names: ClusterNames, roleArn: String, labels: [String: String], owner: MetaV1.OwnerReference) -> CoreV1.ServiceAccount {
        CoreV1.ServiceAccount(
            metadata: MetaV1.ObjectMeta(
                annotations: [roleAnnotation: roleArn], labels: labels, name: name(cluster: names.cluster), namespace: names.namespace,
                ownerReferences: [owner]))
    }
}
