import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import ObjectStorage
import OperatorKit
import VectorBlocksAPI

/// Runs each Backup once: waits (an Event naming the field) until its Cluster is Running and its repository's
/// credentials are there, marks it Running, takes the engine's backup into the repository, and records Completed
/// with what it covers, or Failed with why. A finalizer deletes the backup's objects from S3 when the Backup is
/// deleted with `deletionPolicy: Delete`; with `Retain` they stay.
public struct BackupReconciler: Reconciler {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let engines: EngineHooks
    let storage: BackupStorage
    let now: @Sendable () -> Date
    /// The image holding vectorblocks-backup, which a pgvector backup Job copies into the cluster's own image.
    let uploaderImage: String
    let logger: Logger

    public static let finalizer = "\(VectorBlocksAPI.group)/backup-data"
    /// How often a Backup that waits for its Cluster or its credentials looks again (their changes also wake it).
    static let waitInterval: Duration = .seconds(30)

    init(
        client: KubeClient, caches: OperatorCaches, events: EventRecorder, engines: EngineHooks, http: HTTPClient = .shared,
        environment: [String: String] = ProcessInfo.processInfo.environment, now: @escaping @Sendable () -> Date = { Date() },
        uploaderImage: String = Release.image(Release.backupRepository), logger: Logger
    ) {
        self.client = client
        self.caches = caches
        self.events = events
        self.engines = engines
        self.storage = BackupStorage(client: client, http: http, environment: environment, logger: logger)
        self.now = now
        self.uploaderImage = uploaderImage
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let namespace = key.namespace else { return .done }
        let backup: Backup
        do {
            backup = try await client.get(Backup.self, name: key.name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return .done
        }
        if backup.metadata?.deletionTimestamp != nil { return try await removeData(of: backup, namespace: namespace) }
        if !(backup.metadata?.finalizers ?? []).contains(Self.finalizer) {
            try await setFinalizers(of: backup, to: (backup.metadata?.finalizers ?? []) + [Self.finalizer])
            return .done
        }
        switch backup.status?.phase {
        case .completed, .failed, .deleting: return .done
        default: break
        }
        if let problem = backup.validate().first {
            return try await fail(backup, reason: problem.description)
        }
        do {
            return try await run(backup, namespace: namespace)
        } catch let wait as BackupWait {
            await events.record(backup, type: .warning, reason: "BackupWaiting", message: wait.description)
            return .requeue(after: Self.waitInterval)
        }
    }

    private func run(_ backup: Backup, namespace: String) async throws -> ReconcileResult {
        let clusterName = backup.spec.clusterName
        guard let cluster = await caches.clusters.get(name: clusterName, namespace: namespace) else {
            throw BackupWait("spec.clusterName: Cluster \"\(clusterName)\" not found in \"\(namespace)\"; the backup starts once it exists")
        }
        let definition = await caches.definitions.cache.get(name: cluster.spec.clusterDefinitionRef)
        let engine = definition?.spec.type ?? cluster.spec.clusterDefinitionRef
        guard engine == backup.spec.backupMethod.engine else {
            return try await fail(
                backup,
                reason:
                    "spec.backupMethod: \(backup.spec.backupMethod.rawValue) backs up \(backup.spec.backupMethod.engine), Cluster \"\(clusterName)\" runs \(engine)"
            )
        }
        guard cluster.status?.phase == .running else {
            throw BackupWait("Cluster \"\(clusterName)\" is \(cluster.status?.phase?.rawValue ?? "not yet reported"); the backup starts once it is Running")
        }
        guard let repository = backup.spec.repository ?? cluster.spec.backup?.repository else {
            return try await fail(backup, reason: "spec.repository: no repository; name one here or in the Cluster's spec.backup.repository")
        }
        let field = backup.spec.repository == nil ? "Cluster \(clusterName) spec.backup.repository" : "spec.repository"
        let s3: S3Client
        switch try await storage.s3(repository, namespace: namespace, field: field) {
        case .failure(let wait): throw wait
        case .success(let made): s3 = made
        }
        let path = repository.keyPrefix(namespace: namespace, cluster: clusterName, backup: backup.metadata?.name ?? "")
        if backup.spec.backupMethod == .pgBasebackup {
            return try await runBaseBackupJob(backup, cluster: cluster, repository: repository, storage: s3, path: path, field: field)
        }
        var status = backup.status ?? BackupStatus()
        status.phase = .running
        status.startTimestamp = status.startTimestamp ?? MetaV1.Time(now())
        status.repository = repository
        status.path = path
        status.observedGeneration = backup.metadata?.generation
        let running = try await publish(status, of: backup)

        let names = ClusterNames(cluster: clusterName, namespace: namespace)
        guard let component = cluster.spec.componentSpecs.first else { return try await fail(running, reason: "Cluster \"\(clusterName)\" has no component") }
        let credential = await caches.credential(of: names)
        do {
            let peers = try await QdrantAdapter.peers(await engines.engineComponent(component.name, names: names, credential: credential))
            let result = try await QdrantBackup(peers: peers, storage: s3, prefix: path, logger: logger).run(now: now())
            status.phase = .completed
            status.completionTimestamp = MetaV1.Time(now())
            status.totalSize = result.totalSize
            status.collections = result.manifest.collections.map {
                BackupCollection(name: $0.name, shards: Int32($0.shardNumber), replicationFactor: Int32($0.replicationFactor), points: $0.points)
            }
            if backup.metadata?.labels?[Backup.scheduledLabel] == "true", let retention = cluster.spec.backup?.retention {
                status.expiration = MetaV1.Time(now().addingTimeInterval(TimeInterval(retention.seconds)))
            }
            _ = try await publish(status, of: running)
            await events.record(
                backup, type: .normal, reason: "BackupCompleted",
                message: "\(status.collections?.count ?? 0) collection(s), \(result.totalSize) bytes in s3://\(repository.bucket)/\(path)")
            return .done
        } catch let wait as BackupWait {
            throw wait
        } catch {
            return try await fail(running, reason: "the backup failed: \(error)")
        }
    }

    func fail(_ backup: Backup, reason: String) async throws -> ReconcileResult {
        var status = backup.status ?? BackupStatus()
        status.phase = .failed
        status.failureReason = reason
        status.completionTimestamp = MetaV1.Time(now())
        _ = try await publish(status, of: backup)
        await events.record(backup, type: .warning, reason: "BackupFailed", message: reason)
        return .done
    }

    /// Deletes the backup's objects (with `deletionPolicy: Delete`), then lets the Backup go.
    private func removeData(of backup: Backup, namespace: String) async throws -> ReconcileResult {
        guard (backup.metadata?.finalizers ?? []).contains(Self.finalizer) else { return .done }
        if backup.spec.deletionPolicy ?? .delete == .delete, let repository = backup.status?.repository, let path = backup.status?.path {
            switch try await storage.s3(repository, namespace: namespace, field: "status.repository") {
            case .failure(let wait):
                await events.record(
                    backup, type: .warning, reason: "BackupDataKept", message: "\(wait.description); the Backup stays until its data can be deleted")
                return .requeue(after: Self.waitInterval)
            case .success(let s3):
                let keys = try await s3.listObjects(prefix: path).map(\.key)
                try await s3.deleteObjects(keys)
                logger.info("backup data deleted", metadata: ["backup": "\(namespace)/\(backup.metadata?.name ?? "")", "objects": "\(keys.count)"])
            }
        }
        try await setFinalizers(of: backup, to: (backup.metadata?.finalizers ?? []).filter { $0 != Self.finalizer })
        return .done
    }

    func publish(_ status: BackupStatus, of backup: Backup) async throws -> Backup {
        var updated = backup
        updated.status = status
        return try await client.updateStatus(updated)
    }

    private func setFinalizers(of backup: Backup, to finalizers: [String]) async throws {
        guard let name = backup.metadata?.name, let resourceVersion = backup.metadata?.resourceVersion else { return }
        do {
            _ = try await client.patch(
                Backup.self, name: name, namespace: backup.metadata?.namespace,
                patch: .merge([
                    "metadata": [
                        "finalizers": finalizers.isEmpty ? .null : .array(finalizers.map(JSONValue.string)), "resourceVersion": .string(resourceVersion),
                    ]
                ]))
        } catch let error as KubeAPIError where error.isNotFound {
            return
        }
    }
}
