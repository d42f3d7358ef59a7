import Foundation
import KubeKit
import KubeSim
import Logging
import OperatorKit
import VectorBlocksAPI
import VectorBlocksOperator
import VectorBlocksPackaging

#if canImport(Glibc)
import Glibc
#endif

/// A pgvector Cluster of three pods in an in-process KubeSim, each pod standing for one local PostgreSQL server
/// (`BenchPostgres`), with the operator in this process reaching the servers through a pod addressing, and a writer
/// that writes one row at a time through whichever pod the read-write Service selects. The benchmark plays the
/// kubelet: it kills a server and marks its pod not ready, or, when the operator deletes a pod (a switchover's
/// fence), shuts its server down fast and brings it back as a standby.
final class FailoverRig: Sendable {
    static let cluster = "bench"
    static func pod(_ ordinal: Int) -> String { "\(cluster)-postgresql-\(ordinal)" }

    let servers: [BenchPostgres]
    let kubeSim: KubeSimServer
    let client: KubeClient
    let writer = ServiceWriter()
    let strandedStandbys = StrandedStandbys()
    let refusedSwitchovers = RefusedSwitchovers()
    private let operatorTask: Task<Void, any Error>
    private let root: String

    private init(servers: [BenchPostgres], kubeSim: KubeSimServer, client: KubeClient, operatorTask: Task<Void, any Error>, root: String) {
        self.servers = servers
        self.kubeSim = kubeSim
        self.client = client
        self.operatorTask = operatorTask
        self.root = root
    }

    static func start(synchronous: Bool, binDirectory: String) async throws -> FailoverRig {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vb-failover-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
        let primary = try await BenchPostgres.primary(name: pod(0), port: try localPort(), root: root, binDirectory: binDirectory)
        try await primary.psql("CREATE TABLE ledger (id bigint PRIMARY KEY, server int NOT NULL)")
        var servers = [primary]
        for ordinal in 1...2 {
            servers.append(try await BenchPostgres.standby(of: primary, name: pod(ordinal), port: try localPort(), root: root))
        }
        var configuration = KubeSimConfiguration()
        configuration.workloads = WorkloadSimulation()
        let kubeSim = try await KubeSimServer.start(configuration: configuration)
        var logger = Logger(label: "bench.failover")
        logger.logLevel = .error
        let client = try KubeClient(configuration: KubeClientConfiguration(server: kubeSim.baseURL, namespace: "default"), logger: logger)
        try await install(client)
        let ports = Dictionary(uniqueKeysWithValues: servers.enumerated().map { ($0.offset, $0.element.port) })
        let addressing = PodAddressing { pod, _ in EngineComponent.ordinal(of: pod).flatMap { ports[$0] }.map { ("127.0.0.1", $0) } }
        let manager = OperatorManager(
            client: client,
            options: .init(
                workers: 4, informerTiming: InformerTiming(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(500)),
                podAddressing: addressing),
            logger: logger)
        let operatorTask = Task { try await manager.run() }
        let rig = FailoverRig(servers: servers, kubeSim: kubeSim, client: client, operatorTask: operatorTask, root: root)
        _ = try await client.create(clusterObject(synchronous: synchronous))
        try await rig.waitUntil("pod 0 the labelled primary with both standbys streaming") {
            try await rig.settled(primary: 0)
        }
        return rig
    }

    func stop() async throws {
        await writer.stop()
        operatorTask.cancel()
        _ = await operatorTask.result
        for server in servers { try? await server.stop() }
        try? await client.shutdown()
        try? await kubeSim.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    func recordedPrimary() async throws -> Int? {
        let cluster = try await client.get(Cluster.self, name: Self.cluster, namespace: "default")
        return cluster.status?.components?["postgresql"]?.primary.flatMap(EngineComponent.ordinal(inPodName:))
    }

    /// `primary` alone labelled primary and selected by the read-write Service, every other pod ready and labelled
    /// secondary, and every standby streaming from `primary`.
    func settled(primary: Int) async throws -> Bool {
        guard try await recordedPrimary() == primary else { return false }
        let pods = try await client.list(
            CoreV1.Pod.self, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=\(Self.cluster)")
        ).items
        for pod in pods {
            guard let ordinal = EngineComponent.ordinal(of: pod) else { continue }
            let role = pod.metadata?.labels?[ClusterNames.roleLabel]
            let ready = pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } == true
            guard ready, role == (ordinal == primary ? "primary" : "secondary"), pod.metadata?.deletionTimestamp == nil else { return false }
        }
        guard try await ServiceWriter.readWriteOrdinal(client) == primary else { return false }
        for (ordinal, server) in servers.enumerated() where ordinal != primary {
            let sender = try? await server.psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
            guard sender == "\(servers[primary].port)" else { return false }
        }
        return true
    }

    /// The primary's server killed with SIGKILL and its pod marked not ready, as a crashed container; answers the
    /// time to the first write through the Service on another server, and brings the old one back as a standby.
    func failover() async throws -> Duration {
        guard let primary = try await recordedPrimary() else { throw BenchError("no primary recorded") }
        let killed = ContinuousClock.now
        try await servers[primary].kill()
        try await kubeSim.setPodReady(false, Self.pod(primary))
        let (newPrimary, recovered) = try await firstWrite(elsewhereThan: primary, after: killed)
        try await servers[primary].rejoin(servers[newPrimary])
        try await kubeSim.setPodReady(true, Self.pod(primary))
        try await settle(on: newPrimary)
        return recovered - killed
    }

    /// Waits for the cluster to settle on `primary`. A standby that received WAL the promoted one never had cannot
    /// follow the new timeline (PostgreSQL waits for WAL at its own position for ever); nothing in the operator
    /// rewinds a running standby, so the benchmark does what a restart of its pod would (stop, pg_rewind, start)
    /// and counts it.
    private func settle(on primary: Int) async throws {
        do {
            try await waitUntil("the cluster settled on \(Self.pod(primary))", timeout: .seconds(30)) { try await self.settled(primary: primary) }
            return
        } catch {
            for (ordinal, server) in servers.enumerated() where ordinal != primary {
                let sender = try? await server.psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                guard sender != "\(servers[primary].port)" else { continue }
                await strandedStandbys.record(ordinal)
                try await server.stop()
                try await server.rejoin(servers[primary])
            }
        }
        try await waitUntil("the cluster settled on \(Self.pod(primary))") { try await self.settled(primary: primary) }
    }

    /// A Switchover OpsRequest to the most advanced standby; answers the time from the request to the first write
    /// through the Service on the new primary. The benchmark plays the fenced pod's kubelet meanwhile.
    func switchover() async throws -> Duration {
        guard let primary = try await recordedPrimary() else { throw BenchError("no primary recorded") }
        let uid = try await client.get(CoreV1.Pod.self, name: Self.pod(primary), namespace: "default").metadata?.uid
        let requested = ContinuousClock.now
        var ops = try await requestSwitchover()
        try await waitUntil("\(Self.pod(primary)) fenced") {
            let pod = try? await self.client.get(CoreV1.Pod.self, name: Self.pod(primary), namespace: "default")
            return pod == nil || pod?.metadata?.uid != uid || pod?.metadata?.deletionTimestamp != nil
        } orElse: {
            // A request refused (a replica that did not answer in time): counted, and made again, as a user would.
            let current = try await self.client.get(OpsRequest.self, name: ops.metadata?.name ?? "", namespace: "default")
            guard current.status?.phase == .failed else { return }
            await self.refusedSwitchovers.record(current.status?.conditions?.last?.message ?? "")
            ops = try await self.requestSwitchover()
        }
        try await servers[primary].stop()
        let (newPrimary, recovered) = try await firstWrite(elsewhereThan: primary, after: requested)
        try await waitUntil("\(Self.pod(primary)) made again") {
            let pod = try? await self.client.get(CoreV1.Pod.self, name: Self.pod(primary), namespace: "default")
            return pod.map { $0.metadata?.uid != uid && $0.metadata?.deletionTimestamp == nil } == true
        }
        try await kubeSim.setPodReady(false, Self.pod(primary))
        try await servers[primary].rejoin(servers[newPrimary])
        try await kubeSim.setPodReady(true, Self.pod(primary))
        let name = ops.metadata?.name ?? ""
        try await waitUntil("the switchover succeeded") {
            let current = try await self.client.get(OpsRequest.self, name: name, namespace: "default")
            if current.status?.phase == .failed {
                throw BenchError("the switchover failed: \(current.status?.conditions?.last?.message ?? "")")
            }
            return current.status?.phase == .succeed
        }
        try await settle(on: newPrimary)
        return recovered - requested
    }

    private func requestSwitchover() async throws -> OpsRequest {
        try await client.create(
            OpsRequest(
                metadata: .init(generateName: "\(Self.cluster)-switchover-", namespace: "default"),
                spec: OpsRequestSpec(clusterRef: Self.cluster, type: .switchover, switchover: [.init(componentName: "postgresql", instanceName: "*")])))
    }

    /// Committed writes the current primary does not have.
    func lostWrites() async throws -> (lost: Int, committed: Int) {
        guard let primary = try await recordedPrimary() else { throw BenchError("no primary recorded") }
        let committed = await writer.committedIDs()
        let stored = Set(try await servers[primary].psql("SELECT id FROM ledger").split(separator: "\n").compactMap { Int($0) })
        return (committed.filter { !stored.contains($0) }.count, committed.count)
    }

    private func firstWrite(elsewhereThan primary: Int, after start: ContinuousClock.Instant) async throws -> (Int, ContinuousClock.Instant) {
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            if let found = await writer.firstSuccess(after: start, elsewhereThan: primary) { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchError("timed out waiting for a write through the Service on a server other than \(Self.pod(primary))")
    }

    /// Polls `condition` every 50 ms for up to three minutes (a benchmark, not a test: it only reports).
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(180), _ condition: @Sendable () async throws -> Bool,
        orElse: () async throws -> Void = {}
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await orElse()
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("timed out waiting for \(what)")
    }

    private static func install(_ client: KubeClient) async throws {
        for crd in try ShippedCRDs.documents() {
            _ = try await client.create(ApiextensionsV1.CustomResourceDefinition.descriptor, crd)
        }
        // The API server serves a new CRD's resource a moment after it is stored.
        try await Task.sleep(for: .milliseconds(500))
        _ = try await client.create(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)))
        let addon = try Addon.pgvector.objects()
        for configMap in addon.configMaps { _ = try await client.create(configMap) }
        _ = try await client.create(addon.definition)
        _ = try await client.create(addon.version)
    }

    private static func clusterObject(synchronous: Bool) -> Cluster {
        let storage = CoreV1.PersistentVolumeClaimSpec(
            accessModes: ["ReadWriteOnce"], resources: CoreV1.VolumeResourceRequirements(requests: ["storage": "1Gi"]))
        return Cluster(
            metadata: .init(name: cluster, namespace: "default"),
            spec: ClusterSpec(
                clusterDefinitionRef: "pgvector", terminationPolicy: .delete,
                componentSpecs: [
                    ClusterComponentSpec(
                        name: "postgresql", componentDefRef: "postgresql", replicas: 3,
                        volumeClaimTemplates: [.init(name: "data", spec: storage)],
                        replication: ComponentReplication(
                            failoverDelaySeconds: 0, synchronous: synchronous ? SynchronousReplication(number: 1) : nil))
                ]))
    }

    private static func localPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("bind() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Writes one row at a time through whichever pod the read-write Service selects (its Endpoints, as a client's
/// connection through the Service lands), keeping when and where each committed.
actor ServiceWriter {
    private var committed: [(id: Int, server: Int, at: ContinuousClock.Instant)] = []
    private var stopped = false

    func stop() { stopped = true }

    func committedIDs() -> [Int] { committed.map(\.id) }

    func firstSuccess(after start: ContinuousClock.Instant, elsewhereThan server: Int) -> (Int, ContinuousClock.Instant)? {
        committed.first { $0.at > start && $0.server != server }.map { ($0.server, $0.at) }
    }

    func run(client: KubeClient, servers: [BenchPostgres]) async throws {
        var next = 1
        while !stopped {
            guard let ordinal = try? await Self.readWriteOrdinal(client), servers.indices.contains(ordinal) else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            let id = next
            next += 1
            if (try? await servers[ordinal].psql("INSERT INTO ledger VALUES (\(id), \(ordinal))")) != nil {
                committed.append((id, ordinal, ContinuousClock.now))
            } else {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    static func readWriteOrdinal(_ client: KubeClient) async throws -> Int? {
        let endpoints = try await client.get(CoreV1.Endpoints.self, name: "\(FailoverRig.cluster)-postgresql", namespace: "default")
        let pods = (endpoints.subsets ?? []).flatMap { $0.addresses ?? [] }.compactMap { $0.targetRef?.name }
        return pods.count == 1 ? EngineComponent.ordinal(inPodName: pods[0]) : nil
    }
}

/// The standbys the benchmark had to rewind because they were ahead of the promoted standby.
actor StrandedStandbys {
    private(set) var count = 0

    func record(_ ordinal: Int) { count += 1 }
}

/// Switchover requests the operator refused (and the benchmark made again), with the reasons.
actor RefusedSwitchovers {
    private(set) var reasons: [String] = []

    func record(_ reason: String) { reasons.append(reason) }
}
