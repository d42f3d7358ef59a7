import KubeKit

/// vectorblocks-backup inside a Cluster's pods: an init container of the backup image copies it into an emptyDir, as
/// CloudNativePG copies its instance manager, so the PostgreSQL image runs it without being rebuilt. WAL archiving
/// and a restore both need it; the pod gets one copy.
enum UploaderTools {
    static let volume = PgBasebackupJob.toolsVolume
    static let path = PgBasebackupJob.toolsPath
    static let program = PgBasebackupJob.uploader
    static let installerName = "install-uploader"

    /// The emptyDir and the first init container filling it, added once; the mount to give the containers that run it.
    static func install(image: String, into spec: inout CoreV1.PodSpec) -> CoreV1.VolumeMount {
        let mount = CoreV1.VolumeMount(mountPath: path, name: volume)
        if !(spec.volumes ?? []).contains(where: { $0.name == volume }) {
            spec.volumes = (spec.volumes ?? []) + [CoreV1.Volume(emptyDir: CoreV1.EmptyDirVolumeSource(), name: volume)]
        }
        if !(spec.initContainers ?? []).contains(where: { $0.name == installerName }) {
            let install = CoreV1.Container(
                command: ["vectorblocks-backup", "install", path], image: image, name: installerName,
                securityContext: spec.containers.first?.securityContext, volumeMounts: [mount])
            spec.initContainers = [install] + (spec.initContainers ?? [])
        }
        return mount
    }

    /// The repository's keys from its Secret, as the containers running vectorblocks-backup read them.
    static func credentials(secret: String) -> [CoreV1.EnvVar] {
        let key = { (name: String, optional: Bool) in
            CoreV1.EnvVar(
                name: name,
                valueFrom: CoreV1.EnvVarSource(secretKeyRef: CoreV1.SecretKeySelector(key: name, name: secret, optional: optional ? true : nil)))
        }
        return [key("AWS_ACCESS_KEY_ID", false), key("AWS_SECRET_ACCESS_KEY", false), key("AWS_SESSION_TOKEN", true)]
    }
}
