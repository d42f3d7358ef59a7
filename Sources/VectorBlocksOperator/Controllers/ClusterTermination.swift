import KubeKit
import Logging
import OperatorKit
import VectorBlocksAPI

/// Carries out a deleted Cluster's termination policy before its finalizer goes (KubeBlocks' semantics):
/// DoNotTerminate refuses and keeps everything; Halt removes workloads, Services and PDBs but keeps PVCs, Secrets
/// and ConfigMaps (released from the Cluster, so the garbage collector leaves them); Delete removes everything,
/// PVCs included; WipeOut also removes the Cluster's Backups (whose own finalizer deletes their data), which every
/// other policy keeps. The finalizer goes on the first run whose read of the server finds nothing left to remove.
struct ClusterTermination: Sendable {
    let client: KubeClient
    let events: EventRecorder
    let status: ClusterStatusWriter

    func terminate(_ cluster: Cluster, names: ClusterNames) async throws -> ReconcileResult {
        guard (cluster.metadata?.finalizers ?? []).contains(ClusterNames.finalizer) else { return .done }
        let policy = cluster.spec.terminationPolicy
        if policy == .doNotTerminate {
            let message = "deletion refused: terminationPolicy is DoNotTerminate; set spec.terminationPolicy to Halt, Delete or WipeOut to delete the cluster"
            await events.record(cluster, type: .warning, reason: "DeletionRefused", message: message)
            var refused = cluster.status ?? ClusterStatus()
            var conditions = refused.conditions ?? []
            Conditions.set(
                &conditions, type: ClusterStatus.ConditionType.ready.rawValue, status: .false, reason: "DeletionRefused",
                message: message, observedGeneration: cluster.metadata?.generation, now: .now())
            refused.conditions = conditions
            refused.message = message
            try await status.publish(refused, of: cluster)
            return .done
        }

        if policy == .halt {
            try await release(Self.keptByHalt, of: cluster, names: names)
        }
        var remaining = try await deleteRemaining(policy == .halt ? Self.removedByHalt : Self.removedByDelete, names: names)
        if policy == .wipeOut {
            remaining += try await BackupWipeOut(client: client).deleteBackups(of: names)
        }
        guard remaining.isEmpty else {
            try await reportWaiting(for: remaining, of: cluster)
            // The informers' deletion events wake this Cluster again; the requeue covers an event they miss.
            return .requeue(after: .seconds(5))
        }
        try await removeFinalizer(from: cluster)
        return .done
    }

    static let removedByHalt = [
        AppsV1.StatefulSet.descriptor, AppsV1.Deployment.descriptor, CoreV1.Service.descriptor,
        PolicyV1.PodDisruptionBudget.descriptor, CoreV1.ServiceAccount.descriptor,
    ]
    static let keptByHalt = [CoreV1.Secret.descriptor, CoreV1.ConfigMap.descriptor, CoreV1.PersistentVolumeClaim.descriptor]
    static let removedByDelete = OperatorCaches.ownedKinds + [CoreV1.PersistentVolumeClaim.descriptor]

    /// Deletes what is left of `kinds` and returns what the server still holds (`Kind/name`), deleted just now or
    /// held by another finalizer. Read from the server, not the caches: a cache lags the server, and an object it
    /// has not seen yet (one made since its last event) would outlive the Cluster.
    private func deleteRemaining(_ kinds: [ResourceDescriptor], names: ClusterNames) async throws -> [String] {
        var remaining: [String] = []
        for kind in kinds {
            for object in try await live(kind, names: names) {
                guard let name = object["metadata"]?["name"]?.stringValue else { continue }
                remaining.append("\(kind.kind)/\(name)")
                guard object["metadata"]?["deletionTimestamp"] == nil else { continue }
                do {
                    try await client.delete(
                        kind, name: name, namespace: names.namespace,
                        options: MetaV1.DeleteOptions(propagationPolicy: PropagationPolicy.background.rawValue))
                } catch let error as KubeAPIError where error.isNotFound {
                    continue
                }
            }
        }
        return remaining
    }

    private func live(_ kind: ResourceDescriptor, names: ClusterNames) async throws -> [JSONValue] {
        let selector = LabelSelector(matching: names.clusterSelector).description
        return try await client.listAll(kind, namespace: names.namespace, options: ListOptions(labelSelector: selector)).items
    }

    private func reportWaiting(for remaining: [String], of cluster: Cluster) async throws {
        var waiting = cluster.status ?? ClusterStatus()
        waiting.phase = .deleting
        waiting.message =
            "terminationPolicy \(cluster.spec.terminationPolicy.rawValue): waiting for the API server to remove "
            + remaining.joined(separator: ", ")
        try await status.publish(waiting, of: cluster)
    }

    /// Drops the Cluster's ownerReference from what Halt keeps, so the garbage collector does not delete it with
    /// the Cluster; a Cluster made again with the same name adopts it.
    private func release(_ kinds: [ResourceDescriptor], of cluster: Cluster, names: ClusterNames) async throws {
        guard let uid = cluster.metadata?.uid else { return }
        for kind in kinds {
            for object in try await live(kind, names: names) {
                guard let name = object["metadata"]?["name"]?.stringValue,
                    let references = object["metadata"]?["ownerReferences"]?.arrayValue,
                    references.contains(where: { $0["uid"]?.stringValue == uid }),
                    let resourceVersion = object["metadata"]?["resourceVersion"]?.stringValue
                else { continue }
                let kept = references.filter { $0["uid"]?.stringValue != uid }
                _ = try await client.patch(
                    kind, name: name, namespace: names.namespace,
                    patch: .merge([
                        "metadata": [
                            "ownerReferences": kept.isEmpty ? .null : .array(kept), "resourceVersion": .string(resourceVersion),
                        ]
                    ]))
            }
        }
    }

    private func removeFinalizer(from cluster: Cluster) async throws {
        guard let name = cluster.metadata?.name, let resourceVersion = cluster.metadata?.resourceVersion else { return }
        let remaining = (cluster.metadata?.finalizers ?? []).filter { $0 != ClusterNames.finalizer }
        do {
            _ = try await client.patch(
                Cluster.self, name: name, namespace: cluster.metadata?.namespace,
                patch: .merge([
                    "metadata": [
                        "finalizers": remaining.isEmpty ? .null : .array(remaining.map(JSONValue.string)),
                        "resourceVersion": .string(resourceVersion),
                    ]
                ]))
        } catch let error as KubeAPIError where error.isNotFound {
            return
        }
    }
}
