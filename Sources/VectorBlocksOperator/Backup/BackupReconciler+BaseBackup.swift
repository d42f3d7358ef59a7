import Foundation
import KubeKit
import ObjectStorage
import OperatorKit
import PostgresBackup
import VectorBlocksAPI

extension BackupReconciler {
    /// How often a running backup Job is looked at.
    static let jobPollInterval: Duration = .seconds(5)

    /// A pgvector base backup, one step per pass and all of its state in the Job and the repository, so an operator
    /// that restarts mid-way picks it up: make the Job (copying a streaming standby when one is ready, else the
    /// primary), then wait for it; on success the manifest it wrote last gives the status, on failure its pod's last
    /// words do.
    func runBaseBackupJob(
        _ backup: Backup, cluster: Cluster, repository: BackupRepository, storage: S3Client, path: String, field: String
    ) async throws -> ReconcileResult {
        guard let namespace = backup.metadata?.namespace, let backupName = backup.metadata?.name else { return .done }
        guard let credentials = BackupPodCredentials(repository) else {
            return try await fail(
                backup,
                reason:
                    "\(field).credentialsSecretName: a pgvector backup runs in a Job next to the data, which needs the repository's keys from a Secret or an IAM role (the operator's own IRSA role does not reach that pod); name a Secret, or set \(field).roleArn"
            )
        }
        let jobName = PgBasebackupJob.name(backup: backupName)
        let job: JSONValue
        do {
            job = try await client.get(PgBasebackupJob.descriptor, name: jobName, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return try await startBaseBackupJob(
                backup, cluster: cluster, repository: repository, credentials: credentials, path: path, jobName: jobName)
        }
        let conditions = job["status"]?["conditions"]?.arrayValue ?? []
        let holds = { (type: String) in conditions.contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" } }
        if holds("Complete") {
            return try await completeBaseBackup(backup, cluster: cluster, storage: storage, path: path)
        }
        if holds("Failed") {
            let condition = conditions.first { $0["type"]?.stringValue == "Failed" }
            let said = try await lastWords(ofJob: jobName, namespace: namespace)
            return try await fail(
                backup,
                reason:
                    "the backup Job \(jobName) failed (\(condition?["reason"]?.stringValue ?? "Failed"))\(said.map { ": \($0)" } ?? ""); its pods are kept for their logs"
            )
        }
        return .requeue(after: Self.jobPollInterval)
    }

    private func startBaseBackupJob(
        _ backup: Backup, cluster: Cluster, repository: BackupRepository, credentials: BackupPodCredentials, path: String, jobName: String
    ) async throws -> ReconcileResult {
        guard let namespace = backup.metadata?.namespace, let clusterName = cluster.metadata?.name,
            let component = cluster.spec.componentSpecs.first?.name
        else { return .done }
        if backup.status?.phase == .running {
            return try await fail(backup, reason: "the backup Job \(jobName) was deleted before it finished; make a new Backup")
        }
        let names = ClusterNames(cluster: clusterName, namespace: namespace)
        let ready = await caches.pods.list(namespace: namespace, selector: LabelSelector(matching: names.componentSelector(component)))
            .filter(ClusterStatusCalculator.isReady).sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        let role = { (pod: CoreV1.Pod) in pod.metadata?.labels?[ClusterNames.roleLabel] }
        let pods = { (pods: [CoreV1.Pod], wanted: String) in pods.filter { role($0) == wanted } }
        guard let source = ready.first(where: { role($0) == "secondary" }) ?? ready.first(where: { role($0) == "primary" }),
            let sourcePod = source.metadata?.name
        else {
            throw BackupWait("no ready pod of Cluster \"\(clusterName)\" has a role yet (primary or secondary); the backup starts once one does")
        }
        let statefulSet = await caches.statefulSets.get(name: names.workload(component), namespace: namespace)
        guard let postgresImage = statefulSet?.spec?.template.spec?.containers.first?.image else {
            throw BackupWait("StatefulSet \(names.workload(component)) has no PostgreSQL image yet; the backup starts once it does")
        }
        let isStandby = role(source) == "secondary"
        // The manifest names the WAL archive only when it is in the backup's own bucket, where a restore looks.
        let archive = WALArchiving(cluster: cluster, uploaderImage: uploaderImage).flatMap {
            $0.repository.bucket == repository.bucket && $0.repository.endpoint == repository.endpoint ? $0.walArchivePrefix : nil
        }
        let object = try PgBasebackupJob.build(
            PgBasebackupJob.Input(
                backup: backup, names: names, component: component, sourcePod: sourcePod, sourceIsStandby: isStandby,
                primaryPod: pods(ready, "primary").first?.metadata?.name, repository: repository,
                credentials: credentials, path: path, walArchivePrefix: archive, postgresImage: postgresImage,
                uploaderImage: uploaderImage))
        if let roleArn = credentials.roleArn { try await ensureServiceAccount(of: cluster, names: names, roleArn: roleArn) }
        do {
            _ = try await client.create(PgBasebackupJob.descriptor, object, namespace: namespace)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            return .requeue(after: Self.jobPollInterval)
        }
        var status = backup.status ?? BackupStatus()
        status.phase = .running
        status.startTimestamp = status.startTimestamp ?? MetaV1.Time(now())
        status.repository = repository
        status.path = path
        status.sourcePod = sourcePod
        status.observedGeneration = backup.metadata?.generation
        _ = try await publish(status, of: backup)
        await events.record(
            backup, type: .normal, reason: "BackupStarted",
            message:
                "Job \(jobName) copies \(isStandby ? "the streaming standby" : "the primary (no standby is ready)") \(sourcePod) to s3://\(repository.bucket)/\(path)"
        )
        return .requeue(after: Self.jobPollInterval)
    }

    private func completeBaseBackup(_ backup: Backup, cluster: Cluster, storage: S3Client, path: String) async throws -> ReconcileResult {
        let manifest: BaseBackupManifest
        let manifestBytes: [UInt8]
        do {
            manifestBytes = try await storage.getObjectBytes(path + BaseBackupManifest.objectName)
            manifest = try BaseBackupManifest.decoded(manifestBytes)
        } catch {
            return try await fail(backup, reason: "the backup Job succeeded but its manifest \(path)\(BaseBackupManifest.objectName) cannot be read: \(error)")
        }
        var status = backup.status ?? BackupStatus()
        status.phase = .completed
        status.completionTimestamp = MetaV1.Time(now())
        status.totalSize = manifest.size + Int64(manifestBytes.count)
        status.wal = BackupWALRange(
            startLSN: manifest.startLSN, endLSN: manifest.endLSN, timeline: Int32(manifest.timeline), startWAL: manifest.startWAL,
            endWAL: manifest.endWAL)
        if backup.metadata?.labels?[Backup.scheduledLabel] == "true", let retention = cluster.spec.backup?.retention {
            status.expiration = MetaV1.Time(now().addingTimeInterval(TimeInterval(retention.seconds)))
        }
        _ = try await publish(status, of: backup)
        await events.record(
            backup, type: .normal, reason: "BackupCompleted",
            message:
                "\(manifest.size) bytes, WAL \(manifest.startLSN) to \(manifest.endLSN) on timeline \(manifest.timeline), from \(manifest.fromStandby ? "standby" : "primary") \(backup.status?.sourcePod ?? manifest.source)"
        )
        return .done
    }

    /// Makes the Cluster's backup ServiceAccount when it is not there yet (the Cluster's own repository may not name a
    /// role, so the Cluster controller does not make it). Owned by the Cluster, not controlled: it goes with the
    /// Cluster, and the Cluster controller, which prunes what it controls, takes it over when it wants one too.
    private func ensureServiceAccount(of cluster: Cluster, names: ClusterNames, roleArn: String) async throws {
        guard let uid = cluster.metadata?.uid else { return }
        let owner = MetaV1.OwnerReference(
            apiVersion: Cluster.descriptor.apiVersion, blockOwnerDeletion: true, kind: Cluster.descriptor.kind, name: names.cluster, uid: uid)
        let account = BackupServiceAccount.build(names: names, roleArn: roleArn, labels: names.clusterSelector, owner: owner)
        do {
            _ = try await client.create(CoreV1.ServiceAccount.descriptor, try JSONValue(encoding: account), namespace: names.namespace)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            return
        }
    }

    /// The terminated message of the Job's last failed pod (its last log lines, FallbackToLogsOnError).
    private func lastWords(ofJob job: String, namespace: String) async throws -> String? {
        let pods = try await client.list(CoreV1.Pod.self, namespace: namespace, options: ListOptions(labelSelector: "job-name=\(job)")).items
        let messages = pods.sorted { ($0.metadata?.creationTimestamp?.description ?? "") < ($1.metadata?.creationTimestamp?.description ?? "") }
            .compactMap { pod in
                (pod.status?.containerStatuses ?? []).first { $0.name == PgBasebackupJob.containerName }?.state?.terminated?.message
            }
        guard let last = messages.last else { return nil }
        let lines = last.split(separator: "\n")
        return (lines.last { $0.contains("vectorblocks-backup:") } ?? lines.last).map(String.init)
    }
}
