import Foundation
import KubeKit

/// The Deployment controller, with the ReplicaSet level folded in: pods `<deployment>-<pod-template-hash>-<random>`
/// owned by the Deployment itself, a RollingUpdate bounded by `maxSurge` and `maxUnavailable` (or Recreate), and the
/// status with the Available and Progressing conditions.
actor DeploymentController: SimulatedController {
    let store: ClusterStore
    private let deployments: ControllerClient
    private let pods: ControllerClient

    let watched: [StorageKey] = [.deployments, .pods]

    init?(store: ClusterStore) async {
        let manager = "deployment-controller"
        guard let deployments = await ControllerClient(store: store, key: .deployments, manager: manager),
            let pods = await ControllerClient(store: store, key: .pods, manager: manager)
        else { return nil }
        self.store = store
        self.deployments = deployments
        self.pods = pods
    }

    func reconcile(_: StoreChanges) async -> Duration? {
        for deployment in await store.stored(.deployments) where !deployment.isBeingDeleted {
            await reconcile(deployment)
        }
        return nil
    }

    /// `maxSurge` rounds up and `maxUnavailable` down, and they are never both zero (intstr and the deployment util).
    static func bounds(_ deployment: JSONValue, replicas: Int) -> (surge: Int, unavailable: Int) {
        func resolve(_ value: JSONValue?, default fallback: String, roundUp: Bool) -> Int {
            switch value ?? .string(fallback) {
            case .int(let number): return Int(number)
            case .string(let text) where text.hasSuffix("%"):
                let percent = Double(text.dropLast()) ?? 0
                let scaled = percent * Double(replicas) / 100
                return Int(roundUp ? scaled.rounded(.up) : scaled.rounded(.down))
            case .string(let text): return Int(text) ?? 0
            default: return 0
            }
        }
        let rolling = deployment["spec"]?["strategy"]?["rollingUpdate"]
        let surge = resolve(rolling?["maxSurge"], default: "25%", roundUp: true)
        let unavailable = resolve(rolling?["maxUnavailable"], default: "25%", roundUp: false)
        return surge == 0 && unavailable == 0 ? (0, 1) : (surge, unavailable)
    }

    private func reconcile(_ deployment: JSONValue) async {
        guard let name = deployment.metadataName, let namespace = deployment.metadataNamespace else { return }
        let spec = deployment["spec"] ?? [:]
        let replicas = Int(spec["replicas"]?.intValue ?? 1)
        let hash = TemplateHash.of(spec["template"] ?? [:])
        let owned = await store.stored(.pods, namespace: namespace).filter { $0.isControlled(by: deployment) }
        if spec["paused"]?.boolValue != true {
            await scale(deployment, name: name, namespace: namespace, replicas: replicas, hash: hash, owned: owned)
        }

        let active = await store.stored(.pods, namespace: namespace).filter { $0.isControlled(by: deployment) && !$0.isBeingDeleted && !$0.isPodTerminal }
        let updated = active.filter { $0.labels["pod-template-hash"] == hash }
        let available = active.filter(\.isPodReady).count
        let (_, maxUnavailable) = Self.bounds(deployment, replicas: replicas)
        let previous = deployment["status"]?["conditions"]?.arrayValue ?? []
        let now = Clock.now()
        let hasMinimum = available >= replicas - maxUnavailable
        let complete = updated.count == replicas && active.count == replicas && updated.filter(\.isPodReady).count == replicas
        let replicaSet = "\(name)-\(hash)"
        var status: [String: JSONValue] = [
            "observedGeneration": deployment["metadata"]?["generation"] ?? 1,
            "replicas": .int(Int64(active.count)),
            "updatedReplicas": .int(Int64(updated.count)),
            "readyReplicas": .int(Int64(available)),
            "availableReplicas": .int(Int64(available)),
            "unavailableReplicas": .int(Int64(max(0, replicas - available))),
            "conditions": [
                Conditions.make(
                    "Available", hasMinimum,
                    reason: hasMinimum ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    message: hasMinimum ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                    previous: previous, now: now, withUpdateTime: true),
                Conditions.make(
                    "Progressing", true,
                    reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                    message: complete ? "ReplicaSet \"\(replicaSet)\" has successfully progressed." : "ReplicaSet \"\(replicaSet)\" is progressing.",
                    previous: previous, now: now, withUpdateTime: true),
            ],
        ]
        for key in ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"] where status[key] == .int(0) {
            status[key] = nil  // omitempty, as the real status is written
        }
        guard let fresh = try? await store.get(deployments.resource, namespace: namespace, name: name), fresh.uid == deployment.uid else { return }
        await deployments.updateStatus(of: fresh, to: .object(status))
    }

    private func scale(_ deployment: JSONValue, name: String, namespace: String, replicas: Int, hash: String, owned: [JSONValue]) async {
        let active = owned.filter { !$0.isBeingDeleted && !$0.isPodTerminal }
        let current = active.filter { $0.labels["pod-template-hash"] == hash }
        let old = active.filter { $0.labels["pod-template-hash"] != hash }
        // Not ready first, then the youngest: the ReplicaSet controller's order for picking victims.
        let victimOrder = { (pods: [JSONValue]) in
            pods.sorted { lhs, rhs in
                if lhs.isPodReady != rhs.isPodReady { return !lhs.isPodReady }
                return (lhs["metadata"]?["creationTimestamp"]?.stringValue ?? "") > (rhs["metadata"]?["creationTimestamp"]?.stringValue ?? "")
            }
        }
        if current.count > replicas {
            for pod in victimOrder(current).prefix(current.count - replicas) { await pods.delete(pod) }
        }
        if deployment["spec"]?["strategy"]?["type"]?.stringValue == "Recreate" {
            for pod in old { await pods.delete(pod) }
            guard !owned.contains(where: { $0.labels["pod-template-hash"] != hash && !$0.isPodTerminal }) else { return }
            for _ in 0..<max(0, replicas - current.count) { await pods.create(Self.pod(for: deployment, name: name, namespace: namespace, hash: hash)) }
            return
        }
        let (surge, maxUnavailable) = Self.bounds(deployment, replicas: replicas)
        let toCreate = min(replicas - current.count, replicas + surge - active.count)
        for _ in 0..<max(0, toCreate) { await pods.create(Self.pod(for: deployment, name: name, namespace: namespace, hash: hash)) }
        guard !old.isEmpty else { return }
        let minAvailable = replicas - maxUnavailable
        let newUnavailable = current.filter { !$0.isPodReady }.count
        var budget = active.count - minAvailable - newUnavailable
        var available = active.filter(\.isPodReady).count
        for pod in victimOrder(old) where budget > 0 {
            if pod.isPodReady {
                guard available > minAvailable else { break }
                available -= 1
            }
            budget -= 1
            await pods.delete(pod)
        }
    }

    static func pod(for deployment: JSONValue, name: String, namespace: String, hash: String) -> JSONValue {
        let template = deployment["spec"]?["template"] ?? [:]
        var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
        labels["pod-template-hash"] = .string(hash)
        var metadata: [String: JSONValue] = [
            "name": .string("\(name)-\(hash)-\(NameValidation.generatedSuffix())"), "namespace": .string(namespace),
            "labels": .object(labels), "ownerReferences": [deployment.controllerReference],
        ]
        if let annotations = template["metadata"]?["annotations"] { metadata["annotations"] = annotations }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": template["spec"] ?? [:]]
    }
}
