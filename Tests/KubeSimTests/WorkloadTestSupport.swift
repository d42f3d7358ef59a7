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
    try await poll(what, timeout: timeout, probe)
}

/// The same for a JSON probe. `nil` in a JSONValue position is the literal for `.null`, so `ready ? object : nil`
/// yields `.null` rather than no value: here it means "not yet" too.
@discardableResult
func eventually(_ what: String, timeout: Duration = .seconds(90), _ probe: () async throws -> JSONValue?) async throws -> JSONValue {
    try await poll(what, timeout: timeout) { () async throws -> JSONValue? in
        let value = try await probe()
        if value == .null { return nil }
        return value
    }
}

private func poll<T>(_ what: String, timeout: Duration, _ probe: () async throws -> T?) async throws -> T {
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

    /// The events once they satisfy `caughtUp`: the watch stream trails the store, so a test that saw a state
    /// through a GET waits here for the stream to reach it too.
    func snapshot(until caughtUp: ([JSONValue]) -> Bool) async throws -> [JSONValue] {
        try await poll("the watch to catch up", timeout: .seconds(180)) { () async -> [JSONValue]? in
            let events = await events.events
            return caughtUp(events) ? events : nil
        }
    }

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
        "volumeClaimTemplates": .array(
            claims.map { claim in
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
