import Crypto
import Foundation
import KubeKit
import VectorBlocksAPI

/// The Job that takes a pgvector base backup: it runs next to the data, in the cluster's own PostgreSQL image (its
/// pg_basebackup matches the server), with our uploader copied in by an init container from its own image (as
/// CloudNativePG copies its instance manager), and streams the backup from the source pod straight into S3. A Job
/// rather than the operator: the copy outlives an operator restart, and its bytes never cross the operator.
enum PgBasebackupJob {
    static let descriptor = ResourceDescriptor(group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true)
    static let backupLabel = "\(VectorBlocksAPI.group)/backup"
    static let containerName = "backup"
    static let toolsVolume = "vectorblocks-tools"
    static let toolsPath = "/vectorblocks"
    static let uploader = "\(toolsPath)/vectorblocks-backup"
    /// The postgres user of the official image, which owns nothing here but must not be root.
    static let user: Int64 = 999

    struct Input: Sendable {
        var backup: Backup
        var names: ClusterNames
        var component: String
        /// The pod to copy and whether it is a streaming standby, then the primary it streams from.
        var sourcePod: String
        var sourceIsStandby: Bool
        var primaryPod: String?
        var repository: BackupRepository
        var credentials: BackupPodCredentials
        /// The backup's key prefix and the cluster's WAL archive prefix (when it archives), each ending in `/`.
        var path: String
        var walArchivePrefix: String?
        var postgresImage: String
        var uploaderImage: String
    }

    /// `<backup>-basebackup`, shortened with a hash when the Backup's name is long (a Job's name is a pod label).
    static func name(backup: String) -> String {
        let suffix = "-basebackup"
        guard backup.count + suffix.count > 63 else { return backup + suffix }
        let hash = SHA256.hash(data: Data(backup.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        return String(backup.prefix(63 - suffix.count - 9)) + "-" + hash + suffix
    }

    /// The source's stable DNS name through the component's headless Service.
    static func host(pod: String, names: ClusterNames, component: String) -> String {
        "\(pod).\(names.headlessService(component)).\(names.namespace).svc.cluster.local"
    }

    static func build(_ input: Input) throws -> JSONValue {
        let backupName = input.backup.metadata?.name ?? ""
        let labels = [
            Backup.clusterLabel: input.names.cluster, backupLabel: backupName, ClusterNames.managedByLabel: ClusterNames.managedBy,
        ]
        let repository = input.repository
        var arguments = [
            "base-backup", "--bucket", repository.bucket, "--region", repository.region,
            "--host", host(pod: input.sourcePod, names: input.names, component: input.component), "--port", "5432",
            "--user", "$(POSTGRES_USER)", "--backup-prefix", input.path, "--label", "vectorblocks-\(backupName)",
        ]
        if let endpoint = repository.endpoint { arguments += ["--endpoint", endpoint] }
        if input.sourceIsStandby {
            arguments.append("--standby")
            if let primary = input.primaryPod { arguments += ["--primary-host", host(pod: primary, names: input.names, component: input.component)] }
        }
        if let walArchivePrefix = input.walArchivePrefix { arguments += ["--wal-archive-prefix", walArchivePrefix] }
        let credential = { (name: String, key: String) in
            CoreV1.EnvVar(
                name: name, valueFrom: CoreV1.EnvVarSource(secretKeyRef: CoreV1.SecretKeySelector(key: key, name: input.names.credentialSecret)))
        }
        let security = CoreV1.SecurityContext(
            allowPrivilegeEscalation: false, capabilities: CoreV1.Capabilities(drop: ["ALL"]), readOnlyRootFilesystem: true, runAsNonRoot: true,
            runAsUser: user)
        let tools = CoreV1.VolumeMount(mountPath: toolsPath, name: toolsVolume)
        let install = CoreV1.Container(
            command: ["vectorblocks-backup", "install", toolsPath], image: input.uploaderImage, name: "install-uploader",
            securityContext: security, volumeMounts: [tools])
        var copy = CoreV1.Container(
            args: arguments, command: [uploader], env: [credential("POSTGRES_USER", "username"), credential("PGPASSWORD", "password")],
            image: input.postgresImage, name: containerName, securityContext: security,
            terminationMessagePolicy: "FallbackToLogsOnError", volumeMounts: [tools])
        // No Kubernetes API token: the copy never talks to the API server (an IRSA token, for STS only, is its own volume).
        var pod = CoreV1.PodSpec(
            automountServiceAccountToken: false, containers: [], initContainers: [install], restartPolicy: "Never",
            securityContext: CoreV1.PodSecurityContext(runAsNonRoot: true, seccompProfile: CoreV1.SeccompProfile(type: "RuntimeDefault")),
            volumes: [CoreV1.Volume(emptyDir: CoreV1.EmptyDirVolumeSource(), name: toolsVolume)])
        input.credentials.apply(to: &copy, in: &pod, serviceAccount: BackupServiceAccount.name(cluster: input.names.cluster))
        pod.containers = [copy]
        let owner = MetaV1.OwnerReference(
            apiVersion: Backup.descriptor.apiVersion, blockOwnerDeletion: true, controller: true, kind: Backup.descriptor.kind, name: backupName,
            uid: input.backup.metadata?.uid ?? "")
        let metadata = try JSONValue(
            encoding: MetaV1.ObjectMeta(labels: labels, name: name(backup: backupName), namespace: input.names.namespace, ownerReferences: [owner]))
        let template = try JSONValue(encoding: CoreV1.PodTemplateSpec(metadata: MetaV1.ObjectMeta(labels: labels), spec: pod))
        return [
            "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
            // One retry: a pod lost with its node. A backup that fails twice says why rather than loop.
            "spec": ["backoffLimit": 1, "template": template],
        ]
    }
}
