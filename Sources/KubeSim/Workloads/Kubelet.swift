import Foundation
import KubeKit

/// What a test asked the kubelet to do to a pod (see `KubeSimServer.failPod` and `setPodReady`).
struct PodHealthOverride: Sendable {
    var failure: String?
    /// Containers reported not ready.
    var notReadyContainers: Set<String> = []
    var allNotReady = false
}

/// The scheduler and the kubelets of the simulated nodes: binds each pod to a node, starts it (Running and Ready after
/// `podReadyDelay`, with an IP from 10.244.0.0/16), reports what tests inject, and removes deleted pods once their
/// containers had `podTerminationDelay` to stop.
actor Kubelet: SimulatedController {
    let store: ClusterStore
    private(set) var simulation: WorkloadSimulation
    private let pods: ControllerClient
    private var seen: [String: ContinuousClock.Instant] = [:]
    /// Pods whose containers have started; a later, longer `podReadyDelay` does not stop them again.
    private var started: Set<String> = []
    private var terminating: [String: ContinuousClock.Instant] = [:]
    private var podIPs: [String: String] = [:]
    private var usedIPs: Set<String> = []
    private var nextIP: UInt32 = 2
    private var nextNode = 0
    private var overrides: [String: PodHealthOverride] = [:]
    /// Simulated pods already reporting what this kubelet would report; looked at again when they change, or when a
    /// test changes their health, the ready delay or the nodes.
    private var settled = SettledObjects()
    /// Pods waiting on a delay (to start, or to finish terminating): looked at again when it runs out.
    private var waiting: Set<ObjectName> = []
    /// Nodes stopped by a test (`KubeSimServer.stopNode`): their kubelets neither run, stop nor report pods.
    var lostNodes: Set<String> = []
    /// Runs the pods whose images it has as processes; the others are simulated here.
    let runtime: ProcessRuntime?

    /// With a process runtime, ConfigMaps, Secrets and claims too: running pods' volumes follow them.
    var watched: [StorageKey] {
        runtime == nil ? [.pods, .nodes] : [.pods, .nodes, .configMapObjects, .secretObjects, .persistentVolumeClaims, .serviceAccountObjects]
    }

    init?(store: ClusterStore, simulation: WorkloadSimulation, runtime: ProcessRuntime? = nil) async {
        self.runtime = runtime
        guard let pods = await ControllerClient(store: store, key: .pods, manager: "kubelet") else { return nil }
        self.store = store
        var simulation = simulation
        if simulation.nodeNames.isEmpty { simulation.nodeNames = WorkloadSimulation().nodeNames }
        self.simulation = simulation
        self.pods = pods
    }

    /// Registers the simulated nodes, Ready, as their kubelets would.
    func registerNodes() async {
        guard let nodes = await ControllerClient(store: store, key: .nodes, manager: "kubelet") else { return }
        for (index, name) in simulation.nodeNames.enumerated() {
            let node: JSONValue = [
                "apiVersion": "v1", "kind": "Node",
                "metadata": [
                    "name": .string(name),
                    "labels": [
                        "kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                        "topology.kubernetes.io/zone": .string("sim-zone-\(index % 3 + 1)"),
                    ],
                ],
                "spec": ["podCIDR": .string("10.244.\(index).0/24")],
            ]
            await nodes.create(node)
            guard let created = try? await store.get(nodes.resource, namespace: nil, name: name) else { continue }
            let now = Clock.now()
            await nodes.updateStatus(
                of: created,
                to: [
                    "conditions": [Conditions.make("Ready", true, reason: "KubeletReady", message: "kubelet is posting ready status", previous: [], now: now)],
                    "addresses": [["type": "InternalIP", "address": .string(Self.hostIP(index))], ["type": "Hostname", "address": .string(name)]],
                    "capacity": ["cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"],
                    "allocatable": ["cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"],
                    "nodeInfo": [
                        "kubeletVersion": "v1.36.0", "containerRuntimeVersion": "containerd://2.0.0", "operatingSystem": "linux", "architecture": "amd64",
                    ],
                ])
        }
    }

    static func hostIP(_ nodeIndex: Int) -> String { "172.18.0.\(nodeIndex + 2)" }

    /// Looks at the pods that changed and those waiting on a delay; at every pod on the first pass, after a node
    /// changed (scheduling and lost nodes depend on the nodes), and on every pass with the process runtime, whose pods'
    /// volumes follow ConfigMaps, Secrets and claims.
    func reconcile(_ changes: StoreChanges) async -> Duration? {
        let now = ContinuousClock.now
        var nextWake: Duration?
        var stillWaiting: Set<ObjectName> = []
        func wake(_ pod: ObjectName, after delay: Duration) {
            stillWaiting.insert(pod)
            nextWake = min(nextWake ?? delay, delay)
        }
        let current: [JSONValue]
        if changes.everything || runtime != nil || !changes.changed(.nodes).isEmpty {
            current = await store.stored(.pods)
            forget(except: Set(current.compactMap(\.uid)))
        } else {
            for change in changes.changed(.pods) where change.deleted {
                if let uid = change.object.uid { forget(uid) }
                if let name = change.object.objectName { waiting.remove(name) }
            }
            current = await store.stored(.pods, concernedBy: changes, waiting: waiting)
        }
        if let runtime {
            let claims = await store.stored(.persistentVolumeClaims).compactMap(\.uid)
            await runtime.forget(except: Set(current.compactMap(\.uid)), claims: Set(claims))
            await runtime.refreshAll()
        }
        // A test's override runs a pass of its own (`override`), which can interleave with the control loop's at any
        // await: each pass settles only the pods it looked at, so neither drops a pod the other left waiting (which
        // then stayed Pending, its wake-up long past).
        let lookedAt = Set(current.compactMap(\.objectName))
        defer { waiting = waiting.subtracting(lookedAt).union(stillWaiting) }
        for pod in current {
            guard let uid = pod.uid, let objectName = pod.objectName else { continue }
            if let node = pod["spec"]?["nodeName"]?.stringValue, lostNodes.contains(node) {
                // Nobody stops or reports the pods of a lost node; the node controller only marks them not ready. A
                // pod deleted there stays Terminating until it is force-deleted, as in a real cluster.
                await markNotReady(pod)
                continue
            }
            if settled.contains(pod) { continue }
            if pod.isBeingDeleted, let runtime, await runtime.terminate(pod) { continue }
            if pod.isBeingDeleted {
                let since = terminating[uid] ?? now
                terminating[uid] = since
                if now - since >= simulation.podTerminationDelay {
                    await pods.delete(pod, gracePeriodSeconds: 0)
                } else {
                    wake(objectName, after: simulation.podTerminationDelay - (now - since))
                }
                continue
            }
            var nodeName = pod["spec"]?["nodeName"]?.stringValue ?? ""
            if nodeName.isEmpty {
                let schedulable = await schedulableNodes()
                guard !schedulable.isEmpty else {
                    await reportUnschedulable(pod)
                    continue
                }
                nodeName = schedulable[nextNode % schedulable.count]
                nextNode += 1
                await store.bind(pod: objectName, to: nodeName)
                // The binding's own event starts the next pass, which reports the status.
                continue
            }
            if let runtime, await runtime.adopt(pod) { continue }
            let firstSeen = seen[uid] ?? now
            seen[uid] = firstSeen
            let started = self.started.contains(uid) || now - firstSeen >= simulation.podReadyDelay
            if started { self.started.insert(uid) } else { wake(objectName, after: simulation.podReadyDelay - (now - firstSeen)) }
            let status = self.status(of: pod, uid: uid, nodeName: nodeName, started: started)
            guard status != pod["status"] else {
                if started { settled.insert(pod) }
                continue
            }
            await pods.updateStatus(of: pod, to: status)
        }
        return nextWake
    }

    /// Every pod is looked at again in the next pass: what they report depends on something outside them.
    func forgetSettledPods() {
        settled.removeAll()
    }

    private func forget(except living: Set<String>) {
        for uid in Set(seen.keys).union(terminating.keys).union(podIPs.keys).subtracting(living) { forget(uid) }
    }

    private func forget(_ uid: String) {
        seen[uid] = nil
        started.remove(uid)
        terminating[uid] = nil
        overrides[uid] = nil
        settled.remove(uid: uid)
        if let ip = podIPs.removeValue(forKey: uid) { usedIPs.remove(ip) }
    }

    private func allocateIP(for uid: String) -> String {
        if let ip = podIPs[uid] { return ip }
        // 10.244.0.0/16 holds 65,534 pods; the sim never runs that many at once.
        while true {
            let candidate = "10.244.\((nextIP >> 8) & 0xFF).\(nextIP & 0xFF)"
            repeat {
                nextIP = nextIP >= 0xFFFE ? 2 : nextIP + 1
            } while nextIP & 0xFF == 0 || nextIP & 0xFF == 0xFF
            if usedIPs.insert(candidate).inserted {
                podIPs[uid] = candidate
                return candidate
            }
        }
    }

    /// The status a kubelet reports for the pod as it stands now.
    private func status(of pod: JSONValue, uid: String, nodeName: String, started: Bool) -> JSONValue {
        let old = pod["status"]?.objectValue ?? [:]
        let previous = old["conditions"]?.arrayValue ?? []
        let now = Clock.now()
        let override = overrides[uid] ?? PodHealthOverride()
        let nodeIndex = simulation.nodeNames.firstIndex(of: nodeName) ?? 0
        let hostIP = Self.hostIP(nodeIndex)
        let oldContainers = old["containerStatuses"]?.arrayValue ?? []
        var status = old
        status["hostIP"] = .string(hostIP)
        status["hostIPs"] = [["ip": .string(hostIP)]]
        status["startTime"] = old["startTime"] ?? .string(now)
        let failed = override.failure != nil || pod.podPhase == "Failed"
        var containers: [JSONValue] = []
        var allReady = true
        for container in pod["spec"]?["containers"]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            let image = container["image"] ?? ""
            let previousState = oldContainers.first { $0["name"]?.stringValue == name }
            let startedAt = previousState?["state"]?["running"]?["startedAt"] ?? .string(now)
            let ready = started && !failed && !override.allNotReady && !override.notReadyContainers.contains(name)
            allReady = allReady && ready
            let state: JSONValue
            if failed {
                let terminated: JSONValue =
                    previousState?["state"]?["terminated"]
                    ?? ["exitCode": 1, "reason": "Error", "message": .string(override.failure ?? "failed"), "startedAt": startedAt, "finishedAt": .string(now)]
                state = ["terminated": terminated]
            } else if started {
                state = ["running": ["startedAt": startedAt]]
            } else {
                state = ["waiting": ["reason": "ContainerCreating"]]
            }
            containers.append([
                "name": .string(name), "image": image, "imageID": .string("sim://" + (image.stringValue ?? "")),
                "containerID": .string("containerd://" + TemplateHash.of(bytes: Array((uid + name).utf8))),
                "ready": .bool(ready), "started": .bool(started && !failed),
                "restartCount": 0, "state": state,
            ])
        }
        status["containerStatuses"] = .array(containers)
        if let initContainers = pod["spec"]?["initContainers"]?.arrayValue, !initContainers.isEmpty {
            status["initContainerStatuses"] = .array(
                initContainers.map { container in
                    let finished: JSONValue = started ? ["terminated": ["exitCode": 0, "reason": "Completed"]] : ["waiting": ["reason": "PodInitializing"]]
                    let image = container["image"] ?? ""
                    // imageID is required in a ContainerStatus; typed clients refuse a status without it.
                    return [
                        "name": container["name"] ?? "", "image": image, "imageID": .string("sim://" + (image.stringValue ?? "")), "ready": .bool(started),
                        "restartCount": 0, "started": false, "state": finished,
                    ]
                })
        }
        if started || failed {
            let ip = allocateIP(for: uid)
            status["podIP"] = .string(ip)
            status["podIPs"] = [["ip": .string(ip)]]
        }
        status["phase"] = .string(failed ? "Failed" : started ? "Running" : "Pending")
        if failed {
            status["reason"] = "Error"
            status["message"] = .string(override.failure ?? "the pod failed")
        }
        let containersReady = allReady && !containers.isEmpty
        let notReadyReason = failed ? "PodFailed" : "ContainersNotReady"
        let notReadyMessage =
            "containers with unready status: [\(containers.filter { $0["ready"] != true }.compactMap { $0["name"]?.stringValue }.joined(separator: " "))]"
        status["conditions"] = [
            Conditions.make("PodReadyToStartContainers", started || failed, previous: previous, now: now),
            Conditions.make("Initialized", true, previous: previous, now: now),
            Conditions.make(
                "Ready", containersReady, reason: containersReady ? nil : notReadyReason, message: containersReady ? nil : notReadyMessage, previous: previous,
                now: now),
            Conditions.make(
                "ContainersReady", containersReady, reason: containersReady ? nil : notReadyReason, message: containersReady ? nil : notReadyMessage,
                previous: previous, now: now),
            Conditions.make("PodScheduled", true, previous: previous, now: now),
        ]
        return .object(status)
    }

    // MARK: Test controls

    /// Applies a test's change to a pod's health and reports it at once.
    func setPodReadyDelay(_ delay: Duration) async {
        simulation.podReadyDelay = delay
        forgetSettledPods()
        _ = await reconcile(.everything)
    }

    func override(_ name: ObjectName, _ change: @Sendable (inout PodHealthOverride) -> Void) async throws(KubeSimError) {
        guard let pod = await store.stored(.pods, namespace: name.namespace).first(where: { $0.metadataName == name.name }), let uid = pod.uid else {
            throw KubeSimError.podNotFound(namespace: name.namespace, name: name.name)
        }
        var state = overrides[uid] ?? PodHealthOverride()
        change(&state)
        overrides[uid] = state
        settled.remove(uid: uid)
        _ = await reconcile(.everything)
    }
}
