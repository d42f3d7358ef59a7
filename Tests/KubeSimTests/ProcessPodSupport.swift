import Foundation
import KubeKit
import KubeSim
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Pods run as processes need Linux and root (network and mount namespaces); `scripts/test.sh` installs the tools.
let canRunProcessPods: Bool = {
    #if os(Linux)
    return geteuid() == 0
    #else
    return false
    #endif
}()
let processPodsSkipReason: Comment = "pods run as processes need Linux and root (network and mount namespaces)"

/// An image map that runs `local/shell` images with the host's own programs (`sh`, `sleep`, `python3`).
let shellImageMap = ImageMap([ImageMap.Entry(repository: "local/shell", binDirectory: "/usr/bin")])

func processRuntime(imageMap: ImageMap = shellImageMap, restartBackOff: Duration = .milliseconds(200)) -> KubeSimConfiguration {
    var configuration = simulatedWorkloads()
    var settings = ProcessRuntimeSettings(imageMap: imageMap)
    settings.restartBackOff = restartBackOff
    settings.maximumRestartBackOff = .seconds(2)
    configuration.workloads?.runtime = .processes(settings)
    return configuration
}

/// Runs `body` against a server whose pods run as processes, then checks that the server left nothing behind:
/// no network namespace, link, mount or process of its own, and no state directory.
func withProcessServer(
    imageMap: ImageMap = shellImageMap, restartBackOff: Duration = .milliseconds(200), _ body: (KubeSimServer, TestClient) async throws -> Void
) async throws {
    let server = try await KubeSimServer.start(configuration: processRuntime(imageMap: imageMap, restartBackOff: restartBackOff))
    let network = try #require(server.podNetwork)
    do {
        try await body(server, TestClient(server))
    } catch {
        try await server.shutdown()
        throw error
    }
    try await server.shutdown()
    expectNoProcessPodLeftovers(bridge: network.bridge, directory: network.directory)
}

/// A pod of `local/shell` containers.
func shellPod(_ name: String, containers: [JSONValue], extra: [String: JSONValue] = [:]) -> JSONValue {
    var spec: [String: JSONValue] = ["containers": .array(containers), "terminationGracePeriodSeconds": 2]
    for (key, value) in extra { spec[key] = value }
    return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": .string(name)]], "spec": .object(spec)]
}

func shellContainer(_ name: String, _ script: String, extra: [String: JSONValue] = [:]) -> JSONValue {
    var container: [String: JSONValue] = ["name": .string(name), "image": "local/shell:1", "command": ["/bin/sh", "-c", .string(script)]]
    for (key, value) in extra { container[key] = value }
    return .object(container)
}

extension TestClient {
    /// A container's log as `kubectl logs` reads it.
    func logs(_ pod: String, container: String? = nil, query: String = "") async throws -> String {
        var parameters = container.map { ["container=\($0)"] } ?? []
        if !query.isEmpty { parameters.append(query) }
        let response = try await get("\(podsPath)/\(pod)/log" + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")))
        return response.body.stringValue ?? "\(response.body)"
    }

    func containerStatus(_ pod: String, _ container: String) async throws -> JSONValue? {
        let object = try await get("\(podsPath)/\(pod)").body
        return object["status"]?["containerStatuses"]?.arrayValue?.first { $0["name"]?.stringValue == container }
    }
}
