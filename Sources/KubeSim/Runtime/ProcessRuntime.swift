import Foundation
import KubeKit

/// The process runtime of a KubeSim server (`PodRuntime.processes`): decides which pods run as processes, runs a
/// `PodWorker` for each as a child task, stops them as their pods are deleted, and removes everything it made when
/// the server stops.
actor ProcessRuntime {
    let store: ClusterStore
    let settings: ProcessRuntimeSettings
    let network: PodNetwork
    let certificateAuthorityPEM: String
    let proxy: ServiceProxy
    private let dns: ClusterDNSServer
    private var workers: [String: PodWorker] = [:]
    private var nodeOfPod: [String: String] = [:]
    private var reportedUnmapped: Set<String> = []
    private var stoppedNodes: Set<String> = []
    private var shuttingDown = false
    private let starts: AsyncStream<PodWorker>
    private let startContinuation: AsyncStream<PodWorker>.Continuation
    private var drained: [CheckedContinuation<Void, Never>] = []

    /// How pods reach the API server (the `kubernetes` Service); nil when the server serves plain HTTP.
    nonisolated let apiServer: APIServerService?
    /// The serving identity: its certificate also names the `kubernetes` Service's ClusterIP and names.
    nonisolated let identity: TLSIdentity?

    private init(
        store: ClusterStore, settings: ProcessRuntimeSettings, network: PodNetwork, dns: ClusterDNSServer, identity: TLSIdentity?
    ) {
        self.store = store
        self.dns = dns
        self.proxy = ServiceProxy(store: store, network: network)
        self.settings = settings
        self.network = network
        self.identity = identity
        self.apiServer = identity == nil ? nil : APIServerService(network: network)
        self.certificateAuthorityPEM = identity?.certificatePEM ?? ""
        (starts, startContinuation) = AsyncStream<PodWorker>.makeStream()
    }

    /// Checks the host, removes what crashed servers left, and claims a pod network. With `tls`, makes the server's
    /// identity for `host` and for the names pods reach it by.
    static func start(store: ClusterStore, settings: ProcessRuntimeSettings, host: String, tls: Bool) async throws(PodRuntimeError) -> ProcessRuntime {
        let missing = HostRequirements.missing(imageMap: settings.imageMap)
        guard missing.isEmpty else { throw PodRuntimeError.requirementsMissing(missing) }
        let network = try await PodNetwork.claim(stateRoot: settings.stateDirectory)
        var identity: TLSIdentity?
        if tls {
            do {
                identity = try TLSIdentity.selfSigned(host: host, alternativeNames: APIServerService(network: network).certificateNames)
            } catch {
                await network.shutdown()
                throw PodRuntimeError.hostCommandFailed("making the serving certificate", "\(error)")
            }
        }
        await store.setPodLogRoot(network.directory + "/pods")
        await store.setClusterIPPrefix(network.clusterIPPrefix)
        await store.setServiceAccountAdmission(true)
        let dns: ClusterDNSServer
        do {
            dns = try await ClusterDNSServer.start(address: network.gatewayAddress, store: store)
        } catch {
            await network.shutdown()
            throw PodRuntimeError.hostCommandFailed("cluster DNS on \(network.gatewayAddress):53", "\(error)")
        }
        return ProcessRuntime(store: store, settings: settings, network: network, dns: dns, identity: identity)
    }

    /// Runs the pods' workers until `shutdown` has stopped them all.
    func run() async {
        await withDiscardingTaskGroup { group in
            let (proxy, store) = (self.proxy, self.store)
            group.addTask { await ControlLoop.run(proxy, store: store) }
            for await worker in starts {
                group.addTask { await worker.run() }
            }
        }
    }

    // MARK: What the kubelet asks

    /// Whether the runtime runs this (bound, living) pod: true when every image is in the image map. The first time a
    /// pod is found wanting, an Event says which image and that the pod is simulated instead.
    func adopt(_ pod: JSONValue) async -> Bool {
        guard let uid = pod.uid else { return false }
        if let worker = workers[uid] {
            await worker.update(pod)
            return true
        }
        guard !shuttingDown else { return false }
        let images = ((pod["spec"]?["initContainers"]?.arrayValue ?? []) + (pod["spec"]?["containers"]?.arrayValue ?? [])).compactMap {
            $0["image"]?.stringValue
        }
        let unmapped = images.filter { settings.imageMap.entry(for: $0) == nil }
        guard unmapped.isEmpty else {
            if reportedUnmapped.insert(uid).inserted {
                await context.recordEvent(
                    pod, type: "Normal", reason: "Simulated",
                    message: "image \(unmapped.joined(separator: ", ")) has no entry in the image map: the pod is simulated, no process runs")
            }
            return false
        }
        let node = pod["spec"]?["nodeName"]?.stringValue ?? ""
        guard !stoppedNodes.contains(node) else { return true }
        let worker = PodWorker(pod: pod, context: context)
        workers[uid] = worker
        nodeOfPod[uid] = node
        startContinuation.yield(worker)
        return true
    }

    /// Starts the pod's termination when the runtime runs it; the worker deletes the pod once its processes are gone.
    func terminate(_ pod: JSONValue) -> Bool {
        guard let uid = pod.uid, let worker = workers[uid] else { return false }
        let grace = pod["metadata"]?["deletionGracePeriodSeconds"]?.intValue ?? pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
        worker.send(.stop(grace: .seconds(max(0, grace))))
        return true
    }

    /// Kills the processes of pods that left the store without a grace period (a force delete, a lost pod), and
    /// removes the directories of claims that are gone.
    func forget(except living: Set<String>, claims: Set<String>) {
        for (uid, worker) in workers where !living.contains(uid) {
            worker.send(.halt)
            worker.send(.stop(grace: .zero))
        }
        reportedUnmapped.formIntersection(living)
        let directory = context.claimsDirectory
        for claim in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !claims.contains(claim) {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(claim)")
        }
    }

    /// Tells every worker that ConfigMaps, Secrets or claims may have changed.
    func refreshAll() {
        for worker in workers.values { worker.send(.refresh) }
    }

    // MARK: Faults

    /// SIGKILLs a container's processes; it restarts by its pod's restart policy.
    func kill(podUID uid: String, container: String) async -> Bool {
        guard let worker = workers[uid] else { return false }
        return await worker.killContainer(container)
    }

    /// The node is lost: its pods' processes die at once and nothing of them restarts; their pods go NotReady.
    func stopNode(_ node: String) {
        stoppedNodes.insert(node)
        for (uid, worker) in workers where nodeOfPod[uid] == node { worker.send(.halt) }
    }

    func setConnected(_ connected: Bool, podUID uid: String) async throws(PodRuntimeError) {
        try await network.setConnected(connected, key: uid)
    }

    func logDirectory(podUID uid: String) -> String? {
        workers[uid] == nil ? nil : context.podsDirectory + "/" + uid + "/logs"
    }

    // MARK: Life of the runtime

    fileprivate func finished(_ uid: String) {
        workers[uid] = nil
        nodeOfPod[uid] = nil
        if workers.isEmpty {
            for waiter in drained { waiter.resume() }
            drained = []
        }
    }

    /// Kills every pod's processes, waits for the workers to tear their sandboxes down, then removes the network.
    func shutdown() async {
        shuttingDown = true
        for worker in workers.values {
            worker.send(.halt)
            worker.send(.stop(grace: .zero))
        }
        if !workers.isEmpty { await withCheckedContinuation { drained.append($0) } }
        startContinuation.finish()
        await dns.stop()
        await proxy.stop()
        await network.shutdown()
    }

    nonisolated var context: PodRuntimeContext {
        PodRuntimeContext(
            runtime: self, store: store, network: network, settings: settings,
            directory: network.directory, certificateAuthorityPEM: certificateAuthorityPEM)
    }
}

/// What a pod's worker uses of its server: the store, the network, the settings and the places for files.
struct PodRuntimeContext: Sendable {
    let runtime: ProcessRuntime
    let store: ClusterStore
    let network: PodNetwork
    let settings: ProcessRuntimeSettings
    let directory: String
    let certificateAuthorityPEM: String

    var podsDirectory: String { directory + "/pods" }
    var claimsDirectory: String { directory + "/claims" }
    var nameserver: String { network.gatewayAddress }
    /// The variables a kubelet gives every container for the `kubernetes` Service.
    var serviceVariables: [(String, String)] { runtime.apiServer?.environment ?? [] }

    func podFinished(_ worker: PodWorker) async {
        let uid = worker.uid
        let name = worker.name
        if let pod = await store.stored(.pods, namespace: name.namespace).first(where: { $0.uid == uid }), pod.isBeingDeleted,
            let pods = await ControllerClient(store: store, key: .pods, manager: "kubelet")
        {
            await pods.delete(pod, gracePeriodSeconds: 0)
        }
        await runtime.finished(uid)
    }

    /// Writes the pod's status through the status subresource, unless the pod changed identity or already says it.
    func writeStatus(of name: ObjectName, uid: String, status: JSONValue) async {
        guard let resource = await store.resource(.pods) else { return }
        for _ in 0..<5 {
            guard let pod = await store.stored(.pods, namespace: name.namespace).first(where: { $0.uid == uid }) else { return }
            if pod["status"] == status { return }
            var candidate = pod
            candidate["status"] = status
            do {
                _ = try await store.update(
                    resource, namespace: name.namespace, name: name.name, body: candidate, subresource: "status",
                    context: WriteContext(manager: "kubelet", dryRun: false))
                return
            } catch {
                continue
            }
        }
    }

    func recordEvent(_ pod: JSONValue, type: String, reason: String, message: String) async {
        guard let events = await ControllerClient(store: store, key: .coreEvents, manager: "kubelet") else { return }
        let now = Clock.now()
        let namespace = pod.metadataNamespace ?? "default"
        let suffix = String(UInt64.random(in: 0..<UInt64.max), radix: 16)
        await events.create([
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(pod.metadataName ?? "pod").\(suffix)"), "namespace": .string(namespace)],
            "involvedObject": [
                "apiVersion": "v1", "kind": "Pod", "name": .string(pod.metadataName ?? ""), "namespace": .string(namespace), "uid": .string(pod.uid ?? ""),
            ],
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "source": ["component": "kubelet", "host": pod["spec"]?["nodeName"] ?? ""],
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1, "reportingComponent": "kubelet",
        ])
    }

    /// The ConfigMaps and Secrets of a namespace, for env.
    func references(namespace: String) async -> ContainerEnvironment.References {
        ContainerEnvironment.References(
            configMaps: await objects(.configMapObjects, namespace: namespace), secrets: await objects(.secretObjects, namespace: namespace))
    }

    /// What the pod's volumes read; a service-account token is issued once per pod (`token` is the one it has).
    func volumeSources(for pod: JSONValue, token existing: String?) async -> PodVolumes.Sources {
        let namespace = pod.metadataNamespace ?? "default"
        let account = pod["spec"]?["serviceAccountName"]?.stringValue ?? "default"
        var token = existing
        if token == nil, account == "default",
            !(await store.stored(.serviceAccountObjects, namespace: namespace).contains { $0.metadataName == "default" }),
            let accounts = await ControllerClient(store: store, key: .serviceAccountObjects, manager: "serviceaccount-controller")
        {
            // Every namespace has its `default` ServiceAccount, made by the service-account controller.
            await accounts.create(["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default", "namespace": .string(namespace)]])
        }
        if token == nil { token = try? await store.issueServiceAccountToken(namespace: namespace, name: account) }
        return PodVolumes.Sources(
            configMaps: await objects(.configMapObjects, namespace: namespace), secrets: await objects(.secretObjects, namespace: namespace),
            claims: await objects(.persistentVolumeClaims, namespace: namespace), serviceAccountToken: token,
            certificateAuthorityPEM: certificateAuthorityPEM)
    }

    private func objects(_ key: StorageKey, namespace: String) async -> [String: JSONValue] {
        var byName: [String: JSONValue] = [:]
        for object in await store.stored(key, namespace: namespace) { if let name = object.metadataName { byName[name] = object } }
        return byName
    }
}

extension ClusterStore {
    func setClusterIPPrefix(_ prefix: String) { serviceAddresses.clusterIPPrefix = prefix }
}

extension StorageKey {
    static let configMapObjects = StorageKey(group: "", plural: "configmaps")
    static let secretObjects = StorageKey(group: "", plural: "secrets")
    static let coreEvents = StorageKey(group: "", plural: "events")
    static let serviceAccountObjects = StorageKey(group: "", plural: "serviceaccounts")
}
