import KubeKit

/// Where the restore of a pgvector Cluster's primary stands, read from its pod's `restore` init container, as a
/// pure function: the condition's reason and words (what failed and what to do), or success once the primary is
/// restored and the Cluster is Running.
struct BaseBackupRestoreProgress: Sendable {
    enum Step: Sendable, Hashable {
        case waiting(reason: String, message: String)
        case succeeded(message: String)
    }

    var pod: CoreV1.Pod?
    var podName: String
    var source: PgBasebackupRestore.Source
    var targetTime: String?
    var clusterRunning: Bool

    var step: Step {
        let what = "Backup \(source.backup) (s3://\(source.repository.bucket)/\(source.path))" + (targetTime.map { " to \($0)" } ?? "")
        guard let pod else { return .waiting(reason: "RestoreStarting", message: "pod \(podName), which restores \(what), is not made yet") }
        guard let status = pod.status?.initContainerStatuses?.first(where: { $0.name == PgBasebackupRestore.containerName }) else {
            return .waiting(reason: "RestoreStarting", message: "pod \(podName) restores \(what) once it starts")
        }
        let failed = [status.state?.terminated, status.lastState?.terminated].compactMap { $0 }.first { $0.exitCode != 0 }
        if let done = status.state?.terminated, done.exitCode == 0 {
            guard clusterRunning else {
                return .waiting(
                    reason: "Restoring", message: "pod \(podName) restored \(what); waiting for the Cluster to be Running (its standbys clone the primary)")
            }
            return .succeeded(message: "pod \(podName) restored \(what); the Cluster is Running")
        }
        if status.state?.running != nil {
            let earlier = failed.map { "; its last attempt failed: \(Self.summary($0.message))" } ?? ""
            return .waiting(reason: "Restoring", message: "pod \(podName) restores \(what)\(earlier)")
        }
        if let failed {
            return .waiting(
                reason: "RestoreFailed",
                message:
                    "pod \(podName) could not restore \(what) (\(status.restartCount) restarts): \(Self.summary(failed.message)); \(Self.remedy(failed.message, pod: podName))"
            )
        }
        return .waiting(reason: "RestoreStarting", message: "pod \(podName) restores \(what) once its init containers start")
    }

    /// The lines that say why: the setup script's or the uploader's own, and PostgreSQL's fatal error.
    static func summary(_ message: String?) -> String {
        let lines = (message ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let said = lines.last { $0.contains("pgvector-setup:") || $0.contains("vectorblocks-backup:") }
        let fatal = lines.last { $0.contains("FATAL:") }
        let parts = [said, fatal].compactMap { $0 }
        return parts.isEmpty ? (lines.last ?? "it exited without a message") : parts.joined(separator: " ")
    }

    static func remedy(_ message: String?, pod: String) -> String {
        if message?.contains("recovery ended before configured recovery target was reached") == true {
            return
                "the WAL archive holds nothing past spec.restoreFrom.restoreToTime yet: the restore retries by itself until the source Cluster has archived past that time, or make a Cluster with an earlier restoreToTime"
        }
        return "it retries by itself with the kubelet's back-off; `kubectl logs \(pod) -c \(PgBasebackupRestore.containerName)` has its whole log"
    }
}
