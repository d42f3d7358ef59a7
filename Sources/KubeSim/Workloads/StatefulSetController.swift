import Foundation
import KubeKit

/// The StatefulSet controller of kube-controller-manager: pods `<set>-<ordinal>` in ordinal order (OrderedReady) or all
/// at once (Parallel), their claims from `volumeClaimTemplates` made first and kept by the default retention policy,
/// scale-in from the highest ordinal, RollingUpdate from the highest ordinal down one healthy pod at a time (above the
/// partition), OnDelete, and the status through the status subresource.
actor StatefulSetController: SimulatedController {
    let store: ClusterStore
    private let sets: ControllerClient
    private let pods: ControllerClient
    private let claims: ControllerClient

    let watched: [StorageKey] = [.statefulSets, .pods, .persistentVolumeClaims]

    init?(store: ClusterStore) async {
        let manager = "statefulset-controller"
        guard let sets = await ControllerClient(store: store, key: .statefulSets, manager: manager),
            let pods = await ControllerClient(store: store, key: .pods, manager: manager),
            let claims = await ControllerClient(store: store, key: .persistentVolumeClaims, manager: manager)
        else { return nil }
        self.store = store
        self.sets = sets
        self.pods = pods
        self.claims = claims
    }

    func reconcile(_ changes: StoreChanges) async -> Duration? {
        let sets = changes.everything ? await store.stored(.statefulSets) : await store.stored(.statefulSets, named: Self.setsConcerned(by: changes))
        for set in sets where !set.isBeingDeleted {
            await reconcile(set)
        }
        return nil
    }

    /// The sets changes may concern, by name (some may not exist): a changed set, the controller of a changed pod or
    /// claim, and the sets a pod or claim without one is named after (`<set>-<ordinal>`,
    /// `<template>-<set>-<ordinal>`), which may adopt the pod or want the claim.
    static func setsConcerned(by changes: StoreChanges) -> [ObjectName] {
        var names = Set<ObjectName>()
        for change in changes.changed(.statefulSets) where !change.deleted {
            if let name = change.object.objectName { names.insert(name) }
        }
        for change in changes.changed(.pods) + changes.changed(.persistentVolumeClaims) {
            let object = change.object
            guard let namespace = object.metadataNamespace, let name = object.metadataName else { continue }
            if let controller = object.managingController {
                if controller["kind"]?.stringValue == "StatefulSet", let owner = controller["name"]?.stringValue {
                    names.insert(ObjectName(namespace: namespace, name: owner))
                }
                continue
            }
            for candidate in namedAfter(name) { names.insert(ObjectName(namespace: namespace, name: candidate)) }
        }
        return names.sorted()
    }

    /// The set names an object name `<prefix>-<set>-<ordinal>` can carry: every dash-separated tail before the ordinal.
    static func namedAfter(_ name: String) -> [String] {
        guard let dash = name.lastIndex(of: "-"), Int(name[name.index(after: dash)...]) != nil else { return [] }
        let stem = name[..<dash]
        var candidates = [String(stem)]
        var rest = stem[...]
        while let next = rest.firstIndex(of: "-") {
            rest = rest[rest.index(after: next)...]
            if !rest.isEmpty { candidates.append(String(rest)) }
        }
        return candidates
    }

    static func ordinal(of pod: JSONValue, in set: String) -> Int? {
        guard let name = pod.metadataName, name.hasPrefix(set + "-") else { return nil }
        return Int(name.dropFirst(set.count + 1))
    }

    private func reconcile(_ set: JSONValue) async {
        guard let name = set.metadataName, let namespace = set.metadataNamespace, let uid = set.uid else { return }
        let spec = set["spec"] ?? [:]
        let replicas = Int(spec["replicas"]?.intValue ?? 1)
        let parallel = spec["podManagementPolicy"]?.stringValue == "Parallel"
        let onDelete = spec["updateStrategy"]?["type"]?.stringValue == "OnDelete"
        let partition = Int(spec["updateStrategy"]?["rollingUpdate"]?["partition"]?.intValue ?? 0)
        let updateRevision = "\(name)-\(TemplateHash.of(spec["template"] ?? [:]))"
        let currentRevision = set["status"]?["currentRevision"]?.stringValue ?? updateRevision

        await adoptOrphans(of: set, name: name, namespace: namespace)
        var byOrdinal: [Int: JSONValue] = [:]
        for pod in await store.pods(controlledBy: uid, namespace: namespace) {
            if let ordinal = Self.ordinal(of: pod, in: name) { byOrdinal[ordinal] = pod }
        }
        let revision = { (pod: JSONValue) in pod.labels["controller-revision-hash"] }
        let settled = await act(set, name: name, namespace: namespace, replicas: replicas, parallel: parallel, byOrdinal: byOrdinal, revision: updateRevision)
        if settled, !onDelete {
            await rollOut(byOrdinal: byOrdinal, replicas: replicas, partition: partition, updateRevision: updateRevision, revision: revision)
        }

        // Status from what the store holds after this pass's writes.
        let owned = await store.pods(controlledBy: uid, namespace: namespace).filter { Self.ordinal(of: $0, in: name) != nil }
        let ready = owned.filter(\.isPodHealthy).count
        let updated = owned.filter { revision($0) == updateRevision && !$0.isBeingDeleted }.count
        var status: [String: JSONValue] = [
            "observedGeneration": set["metadata"]?["generation"] ?? 1,
            "replicas": .int(Int64(owned.count)),
            "readyReplicas": .int(Int64(ready)),
            "availableReplicas": .int(Int64(ready)),
            "currentReplicas": .int(Int64(owned.filter { revision($0) == currentRevision && !$0.isBeingDeleted }.count)),
            "updatedReplicas": .int(Int64(updated)),
            "currentRevision": .string(currentRevision),
            "updateRevision": .string(updateRevision),
            "collisionCount": .int(set["status"]?["collisionCount"]?.intValue ?? 0),
        ]
        // A rolling update is complete once every replica runs the new revision and is ready (OnDelete never
        // completes one, as in kube-controller-manager).
        if !onDelete, updated == replicas, ready == replicas, owned.count == replicas {
            status["currentRevision"] = .string(updateRevision)
            status["currentReplicas"] = .int(Int64(updated))
        }
        for (key, value) in status where value == .int(0) && key != "replicas" && key != "observedGeneration" {
            status[key] = nil  // omitempty, as the real status is written
        }
        guard let fresh = try? await store.get(sets.resource, namespace: namespace, name: name), fresh.uid == set.uid else { return }
        await sets.updateStatus(of: fresh, to: .object(status))
    }

    /// Takes over the pods a deleted set left behind (deleted with `propagationPolicy: Orphan`, as operators do to
    /// change immutable fields): pods of its names that match its selector and have no controller, as
    /// kube-controller-manager adopts them, so they are not made again.
    private func adoptOrphans(of set: JSONValue, name: String, namespace: String) async {
        guard let matchLabels = set["spec"]?["selector"]?["matchLabels"]?.objectValue else { return }
        let selector = LabelSelector(matching: matchLabels.compactMapValues(\.stringValue))
        for pod in await store.pods(controlledBy: "", namespace: namespace) where Self.ordinal(of: pod, in: name) != nil {
            guard !pod.isBeingDeleted, selector.matches(pod),
                case .object(var object) = pod, case .object(var metadata)? = object["metadata"]
            else { continue }
            metadata["ownerReferences"] = .array(pod.ownerReferences + [set.controllerReference])
            object["metadata"] = .object(metadata)
            await pods.update(.object(object))
        }
    }

    /// Creates missing and replaces failed pods below `replicas`, and removes those above it, in the order the policy
    /// asks for. Returns whether the set is settled: every replica there and healthy, none left to remove.
    private func act(
        _ set: JSONValue, name: String, namespace: String, replicas: Int, parallel: Bool, byOrdinal: [Int: JSONValue], revision: String
    ) async -> Bool {
        var settled = true
        for ordinal in 0..<replicas {
            guard let pod = byOrdinal[ordinal] else {
                await createClaims(for: set, name: name, namespace: namespace, ordinal: ordinal)
                await pods.create(Self.pod(for: set, name: name, namespace: namespace, ordinal: ordinal, revision: revision))
                if parallel {
                    settled = false
                    continue
                } else {
                    return false
                }
            }
            if pod.podPhase == "Failed", !pod.isBeingDeleted {
                await pods.delete(pod)
                if parallel {
                    settled = false
                    continue
                } else {
                    return false
                }
            }
            if !pod.isPodHealthy {
                if parallel { settled = false } else { return false }
            }
        }
        let condemned = byOrdinal.filter { $0.key >= replicas }.sorted { $0.key > $1.key }
        guard !condemned.isEmpty else {
            await releaseClaims(of: set, name: name, namespace: namespace, from: replicas)
            return settled
        }
        if parallel {
            for (_, pod) in condemned where !pod.isBeingDeleted { await pods.delete(pod) }
            return false
        }
        // One at a time, highest first, and only while every other pod is healthy.
        if let (_, highest) = condemned.first, !highest.isBeingDeleted,
            byOrdinal.values.allSatisfy({ $0.isPodHealthy || $0.uid == highest.uid })
        {
            await pods.delete(highest)
        }
        return false
    }

    /// Replaces the highest-ordinal pod (at or above the partition) that runs an old revision, once every replica is
    /// healthy: one unavailable pod at a time, as the default `maxUnavailable: 1` allows.
    private func rollOut(byOrdinal: [Int: JSONValue], replicas: Int, partition: Int, updateRevision: String, revision: (JSONValue) -> String?) async {
        guard replicas > 0, (0..<replicas).allSatisfy({ byOrdinal[$0]?.isPodHealthy == true }) else { return }
        for ordinal in stride(from: replicas - 1, through: max(0, partition), by: -1) {
            if let pod = byOrdinal[ordinal], revision(pod) != updateRevision {
                await pods.delete(pod)
                return
            }
        }
    }

    /// The claims of one ordinal: `<template>-<set>-<ordinal>`, kept when the set shrinks or goes away unless its
    /// `persistentVolumeClaimRetentionPolicy` says Delete.
    private func createClaims(for set: JSONValue, name: String, namespace: String, ordinal: Int) async {
        let whenDeleted = set["spec"]?["persistentVolumeClaimRetentionPolicy"]?["whenDeleted"]?.stringValue ?? "Retain"
        let selectorLabels = set["spec"]?["selector"]?["matchLabels"]?.objectValue ?? [:]
        for template in set["spec"]?["volumeClaimTemplates"]?.arrayValue ?? [] {
            guard let claimName = Self.claimName(template, set: name, ordinal: ordinal) else { continue }
            if (try? await store.get(claims.resource, namespace: namespace, name: claimName)) != nil { continue }
            var claim = template
            claim["apiVersion"] = "v1"
            claim["kind"] = "PersistentVolumeClaim"
            claim["status"] = nil
            var metadata = template["metadata"]?.objectValue ?? [:]
            metadata["name"] = .string(claimName)
            metadata["namespace"] = .string(namespace)
            metadata["labels"] = .object((metadata["labels"]?.objectValue ?? [:]).merging(selectorLabels) { $1 })
            if whenDeleted == "Delete" { metadata["ownerReferences"] = [set.controllerReference] }
            claim["metadata"] = .object(metadata)
            await claims.create(claim)
        }
    }

    /// With `whenScaled: Delete`, the claims of ordinals at or above `replicas` go once their pods are gone.
    private func releaseClaims(of set: JSONValue, name: String, namespace: String, from replicas: Int) async {
        guard set["spec"]?["persistentVolumeClaimRetentionPolicy"]?["whenScaled"]?.stringValue == "Delete" else { return }
        let templates = set["spec"]?["volumeClaimTemplates"]?.arrayValue ?? []
        for claim in await store.stored(.persistentVolumeClaims, namespace: namespace) where !claim.isBeingDeleted {
            let match = templates.contains { template in
                guard let prefix = template["metadata"]?["name"]?.stringValue.map({ "\($0)-\(name)-" }),
                    let claimName = claim.metadataName, claimName.hasPrefix(prefix), let ordinal = Int(claimName.dropFirst(prefix.count))
                else { return false }
                return ordinal >= replicas
            }
            if match { await claims.delete(claim) }
        }
    }

    static func claimName(_ template: JSONValue, set: String, ordinal: Int) -> String? {
        template["metadata"]?["name"]?.stringValue.map { "\($0)-\(set)-\(ordinal)" }
    }

    static func pod(for set: JSONValue, name: String, namespace: String, ordinal: Int, revision: String) -> JSONValue {
        let template = set["spec"]?["template"] ?? [:]
        let podName = "\(name)-\(ordinal)"
        var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
        labels["controller-revision-hash"] = .string(revision)
        labels["statefulset.kubernetes.io/pod-name"] = .string(podName)
        labels["apps.kubernetes.io/pod-index"] = .string(String(ordinal))
        var metadata: [String: JSONValue] = [
            "name": .string(podName), "namespace": .string(namespace), "labels": .object(labels),
            "ownerReferences": [set.controllerReference],
        ]
        if let annotations = template["metadata"]?["annotations"] { metadata["annotations"] = annotations }
        var spec = template["spec"]?.objectValue ?? [:]
        spec["hostname"] = .string(podName)
        if let serviceName = set["spec"]?["serviceName"]?.stringValue, !serviceName.isEmpty { spec["subdomain"] = .string(serviceName) }
        var volumes = spec["volumes"]?.arrayValue ?? []
        for claimTemplate in set["spec"]?["volumeClaimTemplates"]?.arrayValue ?? [] {
            guard let volumeName = claimTemplate["metadata"]?["name"]?.stringValue,
                let claimName = claimName(claimTemplate, set: name, ordinal: ordinal)
            else { continue }
            volumes.removeAll { $0["name"]?.stringValue == volumeName }
            volumes.append(["name": .string(volumeName), "persistentVolumeClaim": ["claimName": .string(claimName)]])
        }
        if !volumes.isEmpty { spec["volumes"] = .array(volumes) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": .object(spec)]
    }
}
