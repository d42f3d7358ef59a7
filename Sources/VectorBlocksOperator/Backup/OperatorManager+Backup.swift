import KubeKit
import OperatorKit
import VectorBlocksAPI

extension OperatorManager {
    /// The Backup controller (one run per Backup), the schedule controller (per Cluster with `spec.backup`) and the
    /// restore controller (per Cluster with `spec.restoreFrom`).
    func makeBackupControllers(client: KubeClient, events: EventRecorder, engines: EngineHooks) async -> [Controller] {
        let caches = self.caches
        let backups = Controller(
            name: "backup",
            reconciler: BackupReconciler(
                client: client, caches: caches, events: events, engines: engines, uploaderImage: options.backupImage, logger: logger),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        await backups.for(caches.backups, filter: .specOrMetadataChanged)
        // A Cluster that becomes Running wakes the Backups waiting for it.
        await backups.watches(caches.clusters) { event in
            guard let name = event.object.metadata?.name, let namespace = event.object.metadata?.namespace else { return [] }
            return await caches.backups.list(namespace: namespace).filter { $0.spec.clusterName == name && $0.status?.phase != .completed }
                .compactMap { ObjectKey($0) }
        }
        let schedules = Controller(
            name: "backupschedule", reconciler: BackupScheduleReconciler(client: client, events: events, logger: logger),
            workers: 1, metricsFactory: metricsFactory, logger: logger)
        await schedules.for(caches.clusters, filter: .specOrMetadataChanged)
        // A Backup that completes or goes changes what retention keeps.
        await schedules.watches(caches.backups) { event in
            guard let namespace = event.object.metadata?.namespace else { return [] }
            return [ObjectKey(namespace: namespace, name: event.object.spec.clusterName)]
        }
        let restores = Controller(
            name: "restore",
            reconciler: RestoreReconciler(client: client, caches: caches, events: events, engines: engines, logger: logger),
            workers: options.workers, metricsFactory: metricsFactory, logger: logger)
        // Status changes count: the restore starts when the Cluster becomes Running.
        await restores.for(caches.clusters)
        await restores.watches(caches.backups) { event in
            guard let namespace = event.object.metadata?.namespace, let name = event.object.metadata?.name else { return [] }
            return await caches.clusters.list(namespace: namespace).filter { $0.spec.restoreFrom?.backupName == name }.compactMap { ObjectKey($0) }
        }
        return [backups, schedules, restores]
    }
}
