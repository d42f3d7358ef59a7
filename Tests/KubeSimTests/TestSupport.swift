import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import NIOCore
import NIOHTTP1
import Testing

/// A response as the tests look at it: the status code and the JSON body.
struct TestResponse {
    var status: Int
    var body: JSONValue
    var contentType: String?
    /// The `Warning` response headers, each as sent (`299 - "unknown field \"spec.foo\""`).
    var warnings: [String] = []

    var reason: String? { body["reason"]?.stringValue }
    var resourceVersion: String? { body["metadata"]?["resourceVersion"]?.stringValue }
}

/// A thin HTTP client over a running KubeSim server.
struct TestClient {
    let server: KubeSimServer
    var token: String?
    var userAgent = "kubesim-tests/v0.0.1"

    init(_ server: KubeSimServer, token: String? = nil) {
        self.server = server
        self.token = token
    }

    @discardableResult
    func send(
        _ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil, contentType: String = "application/json",
        rawBody: String? = nil, headers extra: [(String, String)] = []
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        request.headers.add(name: "User-Agent", value: userAgent)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let rawBody {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: rawBody))
        } else if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body.jsonBytes()))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let data = Data(buffer.readableBytesView)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .string(String(decoding: data, as: UTF8.self))
        return TestResponse(
            status: Int(response.status.code), body: json, contentType: response.headers.first(name: "Content-Type"),
            warnings: response.headers["Warning"])
    }

    @discardableResult func get(_ path: String) async throws -> TestResponse { try await send(.GET, path) }
    @discardableResult func post(_ path: String, _ body: JSONValue) async throws -> TestResponse { try await send(.POST, path, body) }
    @discardableResult func put(_ path: String, _ body: JSONValue) async throws -> TestResponse { try await send(.PUT, path, body) }
    @discardableResult func delete(_ path: String, _ body: JSONValue? = nil) async throws -> TestResponse { try await send(.DELETE, path, body) }
    @discardableResult func patch(_ path: String, _ body: JSONValue, type: String) async throws -> TestResponse {
        try await send(.PATCH, path, body, contentType: type)
    }

    /// Reads a watch stream until `count` events arrived or the stream ended.
    func watch(_ path: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [JSONValue] {
        var request = HTTPClientRequest(url: server.baseURL + path)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        var events: [JSONValue] = []
        var pending = Data()
        for try await buffer in response.body {
            pending.append(contentsOf: buffer.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                if let event = try? JSONDecoder().decode(JSONValue.self, from: Data(line)) { events.append(event) }
                if events.count >= count { return events }
            }
        }
        return events
    }
}

/// Runs `body` against a fresh server and always shuts it down.
func withServer(
    configuration: KubeSimConfiguration = .init(), _ body: (KubeSimServer, TestClient) async throws -> Void
) async throws {
    let server = try await KubeSimServer.start(configuration: configuration)
    do {
        try await body(server, TestClient(server))
    } catch {
        try await server.shutdown()
        throw error
    }
    try await server.shutdown()
}

func configMap(_ name: String, namespace: String = "default", data: [String: String] = ["k": "v"], labels: [String: String] = [:]) -> JSONValue {
    var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string(namespace)]
    if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues(JSONValue.string)) }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": .object(data.mapValues(JSONValue.string))]
}

func deployment(_ name: String, replicas: Int64 = 1, image: String = "nginx:1") -> JSONValue {
    [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
        "spec": [
            "replicas": .int(replicas), "selector": ["matchLabels": ["app": .string(name)]],
            "template": [
                "metadata": ["labels": ["app": .string(name)]],
                "spec": ["containers": [["name": "app", "image": .string(image)]]],
            ],
        ],
    ]
}

let widgetCRD: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.example.com"],
    "spec": [
        "group": "example.com", "scope": "Namespaced",
        "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true, "subresources": ["status": .object([:])],
                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            ]
        ],
    ],
]
