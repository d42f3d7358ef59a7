import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import NIOCore
import Testing

/// A server configuration with the simulated workloads on and short delays (a loaded machine only makes them longer).
func simulatedWorkloads(podReadyDelay: Duration = .milliseconds(50)) -> KubeSimConfiguration {
    var configuration = KubeSimConfiguration()
    var workloads = WorkloadSimulation()
    workloads.podReadyDelay = podReadyDelay
    workloads.podTerminationDelay = .milliseconds(30)
    workloads.loadBalancerDelay = .milliseconds(50)
    workloads.volumeResizeDelay = .milliseconds(50)
    configuration.workloads = workloads
    return configuration
}

struct ConditionTimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls `probe` until it returns a value; fails after `timeout` (generous: convergence, not speed, is under test).
@discardableResult
func eventually<T>(_ what: String, timeout: Duration = .seconds(90), _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        if ContinuousClock.now > deadline { throw ConditionTimedOut(description: "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Records every event of one watch, from before a scenario starts until it is stopped, so a test can check the
/// order in which things happened.
final class WatchRecorder: Sendable {
    private let events = EventLog()
    private let task: Task<Void, Never>

    actor EventLog {
        var events: [JSONValue] = []
        func append(_ event: JSONValue) { events.append(event) }
    }

    init(_ server: KubeSimServer, _ path: String) async throws {
        let separator = path.contains("?") ? "&" : "?"
        let url = server.baseURL + path + separator + "watch=true&resourceVersion=\(await server.currentResourceVersion())"
        let log = events
        task = Task {
            do {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(600))
                var pending = Data()
                for try await buffer in response.body {
                    pending.append(contentsOf: buffer.readableBytesView)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = Data(pending[pending.startIndex..<newline])
                        pending = Data(pending[(newline + 1)...])
                        if let event = try? JSONDecoder().decode(JSONValue.self, from: line) { await log.append(event) }
                    }
                }
            } catch {}
        }
    }

    func snapshot() async -> [JSONValue] { await events.events }

    func stop() { task.cancel() }
}

extension JSONValue {
    /// An array element, nil when out of range or not an array.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }

    var name: String { self["metadata"]?["name"]?.stringValue ?? "" }
    var ready: Bool {
        (self["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
    }
    var terminating: Bool { self["metadata"]?["deletionTimestamp"] != nil }
}

extension TestClient {
    func items(_ path: String) async throws -> [JSONValue] {
        try await get(path).body["items"]?.arrayValue ?? []
    }

    @discardableResult
    func mergePatch(_ path: String, _ body: JSONValue) async throws -> TestResponse {
        try await patch(path, body, type: "application/merge-patch+json")
    }
}

func statefulSet(
    _ name: String, replicas: Int64 = 3, image: String = "qdrant/qdrant:v1.12.0", policy: String? = nil,
    updateStrategy: String? = nil, claims: [String] = ["data"]
) -> JSONValue {
    var spec: [String: JSONValue] = [
        "replicas": .int(replicas), "serviceName": .string("\(name)-headless"),
        "selector": ["matchLabels": ["app": .string(name)]],
        "template": [
            "metadata": ["labels": ["app": .string(name)]],
            "spec": ["containers": [["name": "db", "image": .string(image), "ports": [["name": "http", "containerPort": 6333]]]]],
        ],
        "volumeClaimTemplates": .array(claims.map { claim in
            ["metadata": ["name": .string(claim)], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
        }),
    ]
    if let policy { spec["podManagementPolicy"] = .string(policy) }
    if let updateStrategy { spec["updateStrategy"] = ["type": .string(updateStrategy)] }
    return ["apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": .string(name)], "spec": .object(spec)]
}

let statefulSetsPath = "/apis/apps/v1/namespaces/default/statefulsets"
let deploymentsPath = "/apis/apps/v1/namespaces/default/deployments"
let podsPath = "/api/v1/namespaces/default/pods"
let claimsPath = "/api/v1/namespaces/default/persistentvolumeclaims"
let servicesPath = "/api/v1/namespaces/default/services"
