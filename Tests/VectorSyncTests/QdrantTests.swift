import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import VectorSync

@Suite("Qdrant double and sink")
struct QdrantTests {
    static let logger = Logger(label: "vectorsync.test.qdrant")

    /// Runs `body` with a double requiring `apiKey` and an HTTP client, shutting both down afterwards.
    static func withQdrant(apiKey: String = "test-key", _ body: (QdrantServer, HTTPClient) async throws -> Void) async throws {
        let server = try await QdrantServer.start(apiKey: apiKey)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(server, http)
        } catch {
            try? await http.shutdown()
            try? await server.shutdown()
            throw error
        }
        try await http.shutdown()
        try await server.shutdown()
    }

    static func request(_ http: HTTPClient, _ method: HTTPMethod, _ url: String, apiKey: String?, body: String? = nil) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let apiKey { request.headers.add(name: "api-key", value: apiKey) }
        request.headers.add(name: "content-type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func theDoubleIsStrictLikeQdrant() async throws {
        try await Self.withQdrant { server, http in
            let base = server.baseURL
            var (status, body) = try await Self.request(http, .GET, base + "/collections", apiKey: nil)
            #expect(status == 401)
            (status, _) = try await Self.request(http, .GET, base + "/collections", apiKey: "wrong")
            #expect(status == 401)
            (status, body) = try await Self.request(http, .GET, base + "/collections/missing", apiKey: "test-key")
            #expect(status == 404)
            #expect(body.contains("Collection `missing` doesn't exist"))
            (status, body) = try await Self.request(
                http, .PUT, base + "/collections/c", apiKey: "test-key", body: #"{"vectors": {"size": 3, "distance": "Cosine"}}"#)
            #expect(status == 200)
            #expect(body.contains(#""status":"ok""#) && body.contains(#""result":true"#))
            (status, _) = try await Self.request(
                http, .PUT, base + "/collections/c", apiKey: "test-key", body: #"{"vectors": {"size": 3, "distance": "Cosine"}}"#)
            #expect(status == 400)
            (status, body) = try await Self.request(
                http, .PUT, base + "/collections/c/points", apiKey: "test-key", body: #"{"points": [{"id": 1, "vector": [1, 0]}]}"#)
            #expect(status == 400)
            #expect(body.contains("expected dim: 3, got 2"))
            (status, body) = try await Self.request(
                http, .PUT, base + "/collections/c/points", apiKey: "test-key", body: #"{"points": [{"id": "sku-1", "vector": [1, 0, 0]}]}"#)
            #expect(status == 422)
            #expect(body.contains("not a valid point ID"))
            (status, _) = try await Self.request(
                http, .PUT, base + "/collections/c/points", apiKey: "test-key",
                body: #"{"points": [{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1}}, {"id": "550e8400-e29b-41d4-a716-446655440000", "vector": [0, 1, 0]}]}"#
            )
            #expect(status == 200)
            (status, body) = try await Self.request(
                http, .POST, base + "/collections/c/points/query", apiKey: "test-key", body: #"{"query": [0.9, 0.1, 0], "limit": 2, "with_payload": true}"#)
            #expect(status == 200)
            let result = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let points = ((result?["result"] as? [String: Any])?["points"] as? [[String: Any]]) ?? []
            #expect(points.map { "\($0["id"]!)" } == ["1", "550e8400-e29b-41d4-a716-446655440000"])
            (status, _) = try await Self.request(http, .GET, base + "/collections/c/points/2", apiKey: "test-key")
            #expect(status == 404)
            (status, _) = try await Self.request(http, .DELETE, base + "/collections/c", apiKey: "test-key")
            #expect(status == 200)
            (status, body) = try await Self.request(http, .GET, base + "/collections/c/exists", apiKey: "test-key")
            #expect(body.contains(#""exists":false"#))
        }
    }

    @Test func theSinkCreatesTheCollectionMapsKeysAndRefusesAnotherEmbedder() async throws {
        try await Self.withQdrant { server, http in
            let sink = try QdrantSink(
                name: "qdrant", url: server.baseURL, collection: "products", apiKey: "test-key", http: http, logger: Self.logger)
            try await sink.prepare(model: "vectorsync-hash-v1", dimension: 4)
            try await sink.prepare(model: "vectorsync-hash-v1", dimension: 4)
            #expect(await server.metadata(of: "products")?.contains("vectorsync-hash-v1") == true)
            let records = [
                VectorRecord(id: "7", vector: [1, 0, 0, 0], payload: ["sku": .string("A")], contentHash: "h7"),
                VectorRecord(id: "SKU-9", vector: [0, 1, 0, 0], payload: [:], contentHash: "h9"),
            ]
            try await sink.upsert(records)
            try await sink.upsert(records)
            let points = await server.points(in: "products") ?? [:]
            #expect(points.count == 2)
            #expect(points["7"] != nil)
            #expect(points.keys.contains { UUID(uuidString: $0) != nil })
            #expect(try await sink.contentHashes(of: ["7", "SKU-9", "missing"]) == ["7": "h7", "SKU-9": "h9"])
            let hits = try await sink.search([0.1, 0.9, 0, 0], limit: 2)
            #expect(hits.map(\.id) == ["SKU-9", "7"])
            try await sink.delete(ids: ["SKU-9"])
            #expect(try await sink.contentHashes(of: ["7", "SKU-9"]) == ["7": "h7"])

            await #expect(throws: ConfigurationError.self) { try await sink.prepare(model: "vectorsync-hash-v1", dimension: 8) }
            let unauthorised = try QdrantSink(
                name: "qdrant", url: server.baseURL, collection: "products", apiKey: nil, http: http, logger: Self.logger)
            do {
                try await unauthorised.prepare(model: "vectorsync-hash-v1", dimension: 4)
                Issue.record("a request without the API key was accepted")
            } catch let error as QdrantError {
                #expect(error.description.contains("401"))
            }
        }
    }
}
