import ArgumentParser
import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import NIOCore

/// KubeSim under the load of a busy test cluster: many watchers open while objects of several kinds are created
/// through the HTTP API by concurrent writers.
struct KubeSimBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubesim",
        abstract: "Creates objects through KubeSim's HTTP API with watchers open; prints write rate, write latency, watch delay and memory.")

    @Option(help: "Objects to create, spread over ConfigMaps, Secrets, Services and Pods.")
    var objects = 20_000

    @Option(help: "Watches open during the writes, spread over the four kinds.")
    var watchers = 50

    @Option(help: "Concurrent writers.")
    var concurrency = 16

    @Option(help: "Namespaces the objects are spread over.")
    var namespaces = 10

    func validate() throws {
        guard objects > 0, watchers > 0, concurrency > 0, namespaces > 0 else {
            throw ValidationError("--objects, --watchers, --concurrency and --namespaces must be positive")
        }
    }

    enum Kind: Int, CaseIterable {
        case configMap, secret, service, pod

        var plural: String { ["configmaps", "secrets", "services", "pods"][rawValue] }

        func object(named name: String) -> JSONValue {
            let labels: JSONValue = ["app.kubernetes.io/managed-by": "vectorblocks", "bench": "kubesim"]
            let metadata: JSONValue = ["name": .string(name), "labels": labels]
            switch self {
            case .configMap:
                return [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
                    "data": ["VB_CLUSTER_NAME": "bench", "VB_REPLICA_COUNT": "3", "settings.yaml": "storage:\n  path: /qdrant/storage\n"],
                ]
            case .secret:
                return [
                    "apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque",
                    "data": ["username": "cm9vdA==", "password": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"],
                ]
            case .service:
                return [
                    "apiVersion": "v1", "kind": "Service", "metadata": metadata,
                    "spec": ["selector": ["app": "qdrant"], "ports": [["name": "http", "port": 6333], ["name": "grpc", "port": 6334]]],
                ]
            case .pod:
                return [
                    "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                    "spec": [
                        "containers": [
                            [
                                "name": "qdrant", "image": "docker.io/qdrant/qdrant:v1.12.4",
                                "ports": [["containerPort": 6333, "name": "http"]],
                                "resources": ["requests": ["cpu": "500m", "memory": "1Gi"]],
                            ]
                        ]
                    ],
                ]
            }
        }
    }

    func run() async throws {
        print("machine: \(Figures.machine())")
        let server = try await KubeSimServer.start()
        // Every watch holds a connection, so the pool must allow them all beside the writers'.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: watchers + concurrency + 4)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        do {
            try await measure(server: server, client: client)
        } catch {
            try? await client.shutdown()
            try? await server.shutdown()
            throw error
        }
        try await client.shutdown()
        try await server.shutdown()
    }

    private func measure(server: KubeSimServer, client: HTTPClient) async throws {
        let base = server.baseURL
        for index in 0..<namespaces {
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string("bench-\(index)")]]
            _ = try await Self.post(client, "\(base)/api/v1/namespaces", namespace)
        }
        let perKind = (0..<Kind.allCases.count).map { kind in (objects - kind + Kind.allCases.count - 1) / Kind.allCases.count }

        // Each watcher follows one kind in every namespace and notes when each object's event arrived.
        var watches: [WatchRecorder] = []
        var watchTasks: [Task<Void, any Error>] = []
        for index in 0..<watchers {
            let kind = Kind(rawValue: index % Kind.allCases.count) ?? .configMap
            let recorder = WatchRecorder(expected: perKind[kind.rawValue])
            watches.append(recorder)
            let url = "\(base)/api/v1/\(kind.plural)?watch=true&timeoutSeconds=3600"
            let (opened, openedContinuation) = AsyncStream<Void>.makeStream()
            watchTasks.append(Task { try await recorder.follow(client, url: url, opened: openedContinuation) })
            for await _ in opened { break }
        }
        defer { for task in watchTasks { task.cancel() } }

        let clock = ContinuousClock()
        let start = clock.now
        let results = try await withThrowingTaskGroup(of: [WriteResult].self) { group in
            for writer in 0..<concurrency {
                group.addTask {
                    var results: [WriteResult] = []
                    var index = writer
                    while index < objects {
                        let kind = Kind(rawValue: index % Kind.allCases.count) ?? .configMap
                        let name = "obj-\(kind.plural)-\(index)"
                        let namespace = "bench-\(index % namespaces)"
                        let sent = clock.now
                        let status = try await Self.post(client, "\(base)/api/v1/namespaces/\(namespace)/\(kind.plural)", kind.object(named: name))
                        let answered = clock.now
                        guard status == 201 else { throw KubeSimBenchmarkError.writeFailed(name: name, status: status) }
                        results.append(WriteResult(name: name, latency: answered - sent, answered: answered))
                        index += concurrency
                    }
                    return results
                }
            }
            var all: [WriteResult] = []
            for try await batch in group { all.append(contentsOf: batch) }
            return all
        }
        let elapsed = clock.now - start

        let deadline = clock.now + .seconds(300)
        for recorder in watches {
            while await !recorder.isComplete, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        let answeredAt = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.answered) })
        var delays: [Duration] = []
        var missing = 0
        var closes = 0
        for recorder in watches {
            let received = await recorder.received
            missing += recorder.expected - received.count
            closes += await recorder.closes
            for (name, instant) in received {
                guard let answered = answeredAt[name] else { continue }
                // The event can reach a watcher before the writer has read its response; that is no delay at all.
                delays.append(max(.zero, instant - answered))
            }
        }

        let latencies = results.map(\.latency).sorted()
        delays.sort()
        print(
            "KubeSim: \(objects) objects (ConfigMaps, Secrets, Services, Pods) in \(namespaces) namespaces, \(concurrency) concurrent writers, \(watchers) watchers"
        )
        print("writes: \(Figures.format(Double(results.count) / elapsed.seconds)) per second (\(Figures.format(elapsed.seconds)) s)")
        print("write latency: p50 \(Self.milliseconds(latencies.percentile(0.50))) ms, p99 \(Self.milliseconds(latencies.percentile(0.99))) ms")
        print(
            "watch delivery delay: p50 \(Self.milliseconds(delays.percentile(0.50))) ms, p99 \(Self.milliseconds(delays.percentile(0.99))) ms over \(delays.count) events\(missing > 0 ? ", \(missing) not delivered" : "")"
        )
        print("watches closed by KubeSim as too slow, then resumed: \(closes)")
        print("resident memory: \(Figures.residentMemoryMiB().map { "\($0) MiB" } ?? "unknown (no /proc/self/status)")")
    }

    struct WriteResult: Sendable {
        var name: String
        var latency: Duration
        var answered: ContinuousClock.Instant
    }

    private static func post(_ client: HTTPClient, _ url: String, _ body: JSONValue) async throws -> UInt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body.jsonBytes()))
        let response = try await client.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1024 * 1024)
        return response.status.code
    }

    private static func milliseconds(_ duration: Duration?) -> String { Figures.format((duration ?? .zero).seconds * 1000) }
}

/// One open watch: the arrival time of each object's event, found by its `obj-` name without decoding the
/// whole event (decoding 50 streams would measure the benchmark rather than the server).
actor WatchRecorder {
    let expected: Int
    private(set) var received: [String: ContinuousClock.Instant] = [:]
    /// How often the server closed this watch as too slow.
    private(set) var closes = 0

    init(expected: Int) {
        self.expected = expected
    }

    var isComplete: Bool { received.count >= expected }

    /// Follows the watch; when the server closes it (as it closes a reader too slow to keep up), resumes from the
    /// last event read, as client-go's reflector does, and counts the close.
    nonisolated func follow(_ client: HTTPClient, url: String, opened: AsyncStream<Void>.Continuation) async throws {
        let marker = Array(#""name":"obj-"#.utf8)
        let versionMarker = Array(#""resourceVersion":""#.utf8)
        var resumeFrom: String?
        while !Task.isCancelled {
            let response = try await client.execute(HTTPClientRequest(url: url + (resumeFrom.map { "&resourceVersion=\($0)" } ?? "")), timeout: .hours(2))
            opened.yield()
            opened.finish()
            var pending: [UInt8] = []
            for try await buffer in response.body {
                let arrived = ContinuousClock.now
                pending.append(contentsOf: buffer.readableBytesView)
                var names: [String] = []
                var lineStart = 0
                var lastLine: Range<Int>?
                while let newline = pending[lineStart...].firstIndex(of: 0x0A) {
                    if let name = Self.quoted(in: pending[lineStart..<newline], after: marker, keepingLast: 4) { names.append(name) }
                    lastLine = lineStart..<newline
                    lineStart = newline + 1
                }
                // Only the chunk's last event's version: where a resumed watch starts.
                if let lastLine, let version = Self.quoted(in: pending[lastLine], after: versionMarker) { resumeFrom = version }
                pending.removeFirst(lineStart)
                if !names.isEmpty { await record(names, at: arrived) }
                if Task.isCancelled { return }
            }
            await countClose()
        }
    }

    private func countClose() { closes += 1 }

    private func record(_ names: [String], at instant: ContinuousClock.Instant) {
        for name in names where received[name] == nil { received[name] = instant }
    }

    /// The quoted value after `marker` in a watch line, with the marker's last `kept` bytes (`obj-` of a name). A
    /// plain byte loop, not `firstRange(of:)`: the generic search took more of the benchmark's CPU than the fan-out it
    /// measures, as the 50 watchers share the process and its two cores.
    private static func quoted(in line: ArraySlice<UInt8>, after marker: [UInt8], keepingLast kept: Int = 0) -> String? {
        line.withUnsafeBufferPointer { bytes -> String? in
            guard bytes.count >= marker.count else { return nil }
            var start = 0
            while start <= bytes.count - marker.count {
                if bytes[start] == marker[0], (1..<marker.count).allSatisfy({ bytes[start + $0] == marker[$0] }) { break }
                start += 1
            }
            guard start <= bytes.count - marker.count else { return nil }
            let valueStart = start + marker.count - kept
            guard let end = bytes[(start + marker.count)...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<end]), as: UTF8.self)
        }
    }
}

enum KubeSimBenchmarkError: Error, CustomStringConvertible {
    case writeFailed(name: String, status: UInt)

    var description: String {
        switch self {
        case .writeFailed(let name, let status): "creating \(name) answered HTTP \(status)"
        }
    }
}
