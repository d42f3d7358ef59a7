import AsyncHTTPClient
import Foundation
import KubeKit
import Logging
import ObjectStorage
import OperatorKit
import VectorBlocksAPI

/// Fills a new Cluster made with `spec.restoreFrom` from its Backup (a Qdrant Cluster once it is Running; a pgvector
/// Cluster's primary before it first starts, see `PgBasebackupRestore`), and reports it as the Cluster's `Restored` condition: False with the reason while it waits (for the Backup, for the Cluster, for
/// the engine's recoveries), True once the engine holds everything the backup held.
public struct RestoreReconciler: Reconciler {
    let client: KubeClient
    let caches: OperatorCaches
    let events: EventRecorder
    let engines: EngineHooks
    let storage: BackupStorage
    let logger: Logger

    public static let conditionType = "Restored"
    /// `Started` once collections are being made, `Succeeded` or `Refused` at the end.
    public static let stateAnnotation = "\(VectorBlocksAPI.group)/restore-state"
    static let started = "Started"
    static let succeeded = "Succeeded"
    static let refused = "Refused"
    /// Why a restore was refused, beside the `Refused` state, so the condition can always be told again.
    public static let refusalAnnotation = "\(VectorBlocksAPI.group)/restore-refusal"

    init(
        client: KubeClient, caches: OperatorCaches, events: EventRecorder, engines: EngineHooks, http: HTTPClient = .shared,
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) {
        self.client = client
        self.caches = caches
        self.events = events
        self.engines = engines
        self.storage = BackupStorage(client: client, http: http, environment: environment, logger: logger)
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let namespace = key.namespace, let cluster = await caches.clusters.get(key), let restore = cluster.spec.restoreFrom,
            cluster.metadata?.deletionTimestamp == nil
        else { return .done }
        // Where the restore stands is kept in an annotation, which only this controller writes: the condition is
        // for people, and the Cluster's status writer may set the conditions from a copy that lacks it.
        let state = cluster.metadata?.annotations?[Self.stateAnnotation]
        if state == Self.succeeded {
            if Conditions.find(cluster.status?.conditions, type: Self.conditionType)?.status != Conditions.Status.true.rawValue {
                _ = try await report(cluster, restored: true, reason: "RestoreSucceeded", message: "restored from Backup \(restore.backupName)")
            }
            return .done
        }
        if state == Self.refused {
            // Another writer's copy of the conditions, older than the refusal, may have dropped it: it is kept with
            // the state and put back (without a second Event).
            if let message = cluster.metadata?.annotations?[Self.refusalAnnotation] {
                _ = try await report(cluster, restored: false, reason: "RestoreRefused", message: message, announce: false)
            }
            return .done
        }
        // A pgvector restore under way is in its pods, which need the Backup no more.
        if state == Self.started, let source = PgBasebackupRestore.Source(annotation: cluster.metadata?.annotations?[PgBasebackupRestore.sourceAnnotation]) {
            return try await followBaseBackupRestore(cluster, source: source, restore: restore)
        }
        let started = state == Self.started
        // Once collections are being made, every wait is a retry of the restore under way, never a fresh start.
        func wait(_ reason: String, _ message: String) async throws -> ReconcileResult {
            try await report(cluster, restored: false, reason: started ? "RestoreRetrying" : reason, message: message)
        }
        let backup: Backup
        do {
            backup = try await client.get(Backup.self, name: restore.backupName, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return try await wait(
                "BackupNotFound",
                "spec.restoreFrom.backupName: Backup \"\(restore.backupName)\" not found in \"\(namespace)\"; the restore starts once it exists")
        }
        guard backup.status?.phase == .completed, let repository = backup.status?.repository, let path = backup.status?.path else {
            return try await wait(
                "BackupNotCompleted",
                "Backup \"\(restore.backupName)\" is \(backup.status?.phase?.rawValue ?? "New"), not Completed; the restore starts once it completes")
        }
        let definition = await caches.definitions.cache.get(name: cluster.spec.clusterDefinitionRef)
        let engine = definition?.spec.type ?? cluster.spec.clusterDefinitionRef
        guard engine == backup.spec.backupMethod.engine else {
            _ = try await report(
                cluster, restored: false, reason: "WrongEngine",
                message:
                    "spec.restoreFrom.backupName: Backup \"\(restore.backupName)\" is of \(backup.spec.backupMethod.engine), this Cluster runs \(engine); name a \(engine) backup"
            )
            return .done
        }
        if restore.restoreToTime != nil, backup.spec.backupMethod != .pgBasebackup {
            return try await refuse(
                cluster,
                "spec.restoreFrom.restoreToTime: a \(backup.spec.backupMethod.rawValue) Backup restores the state at its own time; remove restoreToTime")
        }
        if backup.spec.backupMethod == .pgBasebackup {
            return try await startBaseBackupRestore(cluster, restore: restore, repository: repository, path: path)
        }
        guard cluster.status?.phase == .running, let component = cluster.spec.componentSpecs.first else {
            return try await wait("WaitingForCluster", "the restore goes on once the Cluster is Running")
        }
        let s3: S3Client
        switch try await storage.s3(repository, namespace: namespace, field: "Backup \(restore.backupName) status.repository") {
        case .failure(let problem): return try await wait("RepositoryUnreachable", problem.description)
        case .success(let made): s3 = made
        }
        let names = ClusterNames(cluster: key.name, namespace: namespace)
        do {
            let peers = try await QdrantAdapter.peers(
                await engines.engineComponent(component.name, names: names, credential: await caches.credential(of: names)))
            let restoring = QdrantRestore(peers: peers, storage: s3, prefix: path, logger: logger)
            let manifest = try await restoring.manifest()
            if !started {
                // A restore fills only collections it makes: one that exists already holds someone's data.
                if let existing = try await restoring.existingCollections(manifest).first {
                    return try await refuse(
                        cluster,
                        "collection \"\(existing)\" already exists in the Cluster; a restore fills only a new Cluster, so make one with spec.restoreFrom")
                }
                // Recorded before any collection is made, so a later pass knows they are its own; the annotation's
                // change wakes this controller again.
                try await annotate(cluster, Self.started)
                _ = try await report(cluster, restored: false, reason: "RestoreStarting", message: "restoring from Backup \(restore.backupName)")
                return .done
            }
            switch try await restoring.step(manifest) {
            case .done:
                try await annotate(cluster, Self.succeeded)
                await events.record(
                    cluster, type: .normal, reason: "RestoreSucceeded",
                    message: "every collection of Backup \(restore.backupName) is back, every replica Active")
                _ = try await report(cluster, restored: true, reason: "RestoreSucceeded", message: "restored from Backup \(restore.backupName)")
                return .done
            case .waiting(let reason):
                _ = try await report(cluster, restored: false, reason: "Restoring", message: reason)
                return .requeue(after: .seconds(2))
            }
        } catch {
            guard started else {
                return try await report(cluster, restored: false, reason: "EngineUnreachable", message: "\(error)")
            }
            return try await report(cluster, restored: false, reason: "RestoreRetrying", message: "\(error)")
        }
    }

    func annotate(_ cluster: Cluster, _ state: String, refusal: String? = nil) async throws {
        var annotations: [String: JSONValue] = [Self.stateAnnotation: .string(state)]
        if let refusal { annotations[Self.refusalAnnotation] = .string(refusal) }
        _ = try await client.patch(
            Cluster.self, name: cluster.metadata?.name ?? "", namespace: cluster.metadata?.namespace,
            patch: .merge(["metadata": ["annotations": .object(annotations)]]))
    }

    /// Ends the restore: the state and the reason first (they outlive any copy of the conditions), then the condition.
    func refuse(_ cluster: Cluster, _ message: String) async throws -> ReconcileResult {
        try await annotate(cluster, Self.refused, refusal: message)
        _ = try await report(cluster, restored: false, reason: "RestoreRefused", message: message)
        return .done
    }

    /// Sets the condition; waiting ones come back after a while (the Backup's and the Cluster's changes also wake it).
    func report(_ cluster: Cluster, restored: Bool, reason: String, message: String, announce: Bool = true) async throws -> ReconcileResult {
        var conditions = cluster.status?.conditions ?? []
        let before = Conditions.find(conditions, type: Self.conditionType)
        Conditions.set(
            &conditions, type: Self.conditionType, status: restored ? .true : .false, reason: reason, message: message,
            observedGeneration: cluster.metadata?.generation, now: .now())
        if before?.reason != reason || before?.message != message || before?.status != Conditions.find(conditions, type: Self.conditionType)?.status {
            if announce, !restored, before?.reason != reason {
                // Progress is Normal; every other reason to wait is something to look at.
                let progress = ["RestoreStarting", "Restoring"].contains(reason)
                await events.record(cluster, type: progress ? .normal : .warning, reason: reason, message: message)
            }
            _ = try await client.patch(
                Cluster.self, name: cluster.metadata?.name ?? "", namespace: cluster.metadata?.namespace,
                patch: .merge(["status": ["conditions": try JSONValue(encoding: conditions)]]), subresource: "status")
        }
        return restored ? .done : .requeue(after: .seconds(10))
    }
}
