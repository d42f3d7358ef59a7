import Foundation
import HTTPTypes
import Hummingbird
import JSONValues
import Logging
import NIOCore
import ServiceLifecycle

/// The project's Qdrant test double: a Hummingbird server on 127.0.0.1 that follows Qdrant's REST API
/// (`../shared/reference/qdrant/openapi.json`) in paths, bodies and the `{"result", "status", "time"}` envelope,
/// keeps real state, and is as strict as Qdrant: unknown collections, vectors of the wrong dimension, point ids that
/// are neither unsigned integers nor UUIDs, and a missing or wrong `api-key` are refused with Qdrant's status codes.
///
/// Served: collections (list, create, get, delete, exists), points (upsert, delete, retrieve by ids or one id, query
/// by vector, count), the health endpoints, and, started with `cluster:`, the cluster endpoints of
/// `QdrantServer+Cluster`: the double then answers for every peer of a distributed deployment, as any peer answers
/// with the consensus state. `startPeers` starts one server per peer over one shared state instead, each answering as
/// its own peer, with the shard snapshot endpoints of `QdrantServer+Snapshots` (a peer snapshots and recovers only
/// its own replicas). Every JSON request body and every answer is checked against the reference `openapi.json`
/// (`QdrantOpenAPI`): a request that breaks it is refused with 422, an answer that breaks it is replaced by a 500, and
/// both are kept for `schemaViolations()`.
public final class QdrantServer: Sendable {
    public let port: Int
    public let apiKey: String?
    /// The peer this server answers as; nil for the consensus's first peer (one server standing for all).
    public let peerID: UInt64?
    let state: QdrantState
    let violations: QdrantSchemaViolations
    private let serviceGroup: ServiceGroup
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(
        port: Int, apiKey: String?, peerID: UInt64?, state: QdrantState, violations: QdrantSchemaViolations, serviceGroup: ServiceGroup,
        task: Task<Void, any Error>
    ) {
        self.port = port
        self.apiKey = apiKey
        self.peerID = peerID
        self.state = state
        self.violations = violations
        self.serviceGroup = serviceGroup
        self.task = task
    }

    /// Starts a server on a free port; with `apiKey`, every request must carry it (`api-key` or a bearer token).
    /// With `cluster`, distributed mode is on: peers join with `addPeer(uri:)` and shards move between them.
    public static func start(apiKey: String? = nil, cluster: QdrantClusterSimulation? = nil) async throws -> QdrantServer {
        try await start(apiKey: apiKey, state: QdrantState(cluster: cluster), peer: nil, violations: QdrantSchemaViolations())
    }

    static func start(apiKey: String?, state: QdrantState, peer: UInt64?, violations: QdrantSchemaViolations) async throws -> QdrantServer {
        var logger = Logger(label: "qdrant-double")
        logger.logLevel = .warning
        let router = Router()
        healthRoutes(router)
        router.add(middleware: APIKeyMiddleware(apiKey: apiKey))
        router.add(middleware: OpenAPIMiddleware(api: .shared, violations: violations))
        routes(router, state: state)
        clusterRoutes(router, state: state, peer: peer)
        snapshotRoutes(router, state: state, peer: peer)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            }, logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            try await task.value
            throw TestSetupError("the Qdrant test double did not start listening")
        }
        return QdrantServer(port: port, apiKey: apiKey, peerID: peer, state: state, violations: violations, serviceGroup: serviceGroup, task: task)
    }

    public func shutdown() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await task.value
    }

    /// The points of a collection (id as Qdrant prints it → vector and payload as JSON), for checking a sink; nil
    /// when there is no such collection.
    public func points(in collection: String) async -> [String: (vector: [Float], payloadJSON: String)]? {
        await state.collections[collection].map { collection in
            collection.points.mapValues { point in
                let data = (try? JSONSerialization.data(withJSONObject: point.payload, options: [.sortedKeys])) ?? Data()
                return (point.vector, String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// The collection's metadata as JSON, or nil when there is no such collection.
    public func metadata(of collection: String) async -> String? {
        await state.collections[collection].map { collection in
            let data = (try? JSONSerialization.data(withJSONObject: collection.metadata, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    static func routes(_ router: Router<BasicRequestContext>, state: QdrantState) {
        router.get("/collections") { _, _ in
            let names = await state.collections.keys.sorted()
            return ok(["collections": names.map { ["name": $0] }])
        }
        router.get("/collections/:collection") { _, context in
            let name = try context.parameters.require("collection")
            guard let collection = await state.collections[name] else { return notFound(collection: name) }
            return ok(collection.info)
        }
        router.get("/collections/:collection/exists") { _, context in
            let name = try context.parameters.require("collection")
            return ok(["exists": await state.collections[name] != nil])
        }
        router.put("/collections/:collection") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let vectors = body["vectors"] as? [String: Any], let size = (vectors["size"] as? NSNumber)?.intValue,
                let distance = vectors["distance"] as? String
            else {
                return error(.unprocessableContent, "Format error in JSON body: missing field `vectors` with `size` and `distance`")
            }
            guard size >= 1 else { return error(.unprocessableContent, "Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]") }
            guard ["Cosine", "Euclid", "Dot", "Manhattan"].contains(distance) else {
                return error(
                    .unprocessableContent,
                    "Format error in JSON body: vectors.distance: unknown variant `\(distance)`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`")
            }
            let shards = (body["shard_number"] as? NSNumber)?.intValue ?? 1
            let replicationFactor = (body["replication_factor"] as? NSNumber)?.intValue ?? 1
            guard shards >= 1, replicationFactor >= 1 else {
                return error(.unprocessableContent, "Validation error in JSON body: [shard_number and replication_factor must be 1 or larger]")
            }
            let created = await state.create(
                name,
                collection: QdrantState.Collection(
                    size: size, distance: distance, metadata: body["metadata"] as? [String: Any] ?? [:],
                    shardNumber: shards, replicationFactor: replicationFactor))
            guard created else { return error(.badRequest, "Wrong input: Collection `\(name)` already exists!") }
            return ok(true)
        }
        router.delete("/collections/:collection") { _, context in
            let name = try context.parameters.require("collection")
            return ok(await state.delete(name))
        }
        router.put("/collections/:collection/points") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let points = body["points"] as? [[String: Any]] else {
                return error(.unprocessableContent, "Format error in JSON body: missing field `points`")
            }
            var parsed: [(String, [Float], [String: Any])] = []
            for point in points {
                guard let id = point["id"].flatMap(pointID) else {
                    return error(
                        .unprocessableContent,
                        "Format error in JSON body: value \(point["id"].map { "\($0)" } ?? "null") is not a valid point ID, valid values are either an unsigned integer or a UUID"
                    )
                }
                guard let vector = (point["vector"] as? [NSNumber])?.map({ $0.floatValue }) else {
                    return error(.unprocessableContent, "Format error in JSON body: point \(id) has no vector")
                }
                parsed.append((id, vector, point["payload"] as? [String: Any] ?? [:]))
            }
            return await state.mutate(name) { collection in
                for (_, vector, _) in parsed where vector.count != collection.size {
                    return error(.badRequest, "Wrong input: Vector dimension error: expected dim: \(collection.size), got \(vector.count)")
                }
                for (id, vector, payload) in parsed { collection.points[id] = .init(vector: vector, payload: payload) }
                return updated(collection.nextOperation())
            }
        }
        router.post("/collections/:collection/points/delete") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let ids = (body["points"] as? [Any])?.map(pointID), !ids.contains(nil) else {
                return error(.unprocessableContent, "Format error in JSON body: `points` must list unsigned integers or UUIDs")
            }
            return await state.mutate(name) { collection in
                for id in ids.compactMap({ $0 }) { collection.points[id] = nil }
                return updated(collection.nextOperation())
            }
        }
        router.post("/collections/:collection/points") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let ids = (body["ids"] as? [Any])?.map(pointID), !ids.contains(nil) else {
                return error(.unprocessableContent, "Format error in JSON body: `ids` must list unsigned integers or UUIDs")
            }
            let withPayload = body["with_payload"]
            let withVector = body["with_vector"] as? Bool ?? false
            return await state.read(name) { collection in
                ok(
                    ids.compactMap { $0 }.compactMap { id in
                        collection.points[id].map { record(id: id, point: $0, withPayload: withPayload, withVector: withVector) }
                    })
            }
        }
        // Qdrant's scroll: points in id order (integers, then UUIDs), from `offset` on (inclusive), and the id the
        // next page starts at.
        router.post("/collections/:collection/points/scroll") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            let limit = (body["limit"] as? NSNumber)?.intValue ?? 10
            var offset: String?
            if let raw = body["offset"], !(raw is NSNull) {
                guard let id = pointID(raw) else { return error(.unprocessableContent, "Format error in JSON body: `offset` is not a point id") }
                offset = id
            }
            let withPayload = body["with_payload"] ?? true
            let withVector = body["with_vector"] as? Bool ?? false
            return await state.read(name) { collection in
                let ordered = collection.points.keys.sorted(by: scrollOrder)
                let start = offset.map { first in ordered.firstIndex { !scrollOrder($0, first) } ?? ordered.count } ?? 0
                let page = ordered[start...].prefix(limit)
                let following = start + page.count
                let next: Any = following < ordered.count ? (UInt64(ordered[following]).map { $0 as Any } ?? ordered[following]) : NSNull()
                let points = page.map { id in record(id: id, point: collection.points[id]!, withPayload: withPayload, withVector: withVector) }
                return ok(["points": points, "next_page_offset": next])
            }
        }
        router.get("/collections/:collection/points/:id") { _, context in
            let name = try context.parameters.require("collection")
            let raw = try context.parameters.require("id")
            guard let id = pointID(UInt64(raw).map { $0 as Any } ?? raw) else {
                return error(.badRequest, "Wrong input: Unable to parse point id `\(raw)`")
            }
            return await state.read(name) { collection in
                guard let point = collection.points[id] else { return error(.notFound, "Not found: Point with id \(id) does not exists!") }
                return ok(record(id: id, point: point, withPayload: true, withVector: true))
            }
        }
        router.post("/collections/:collection/points/count") { _, context in
            let name = try context.parameters.require("collection")
            return await state.read(name) { collection in ok(["count": collection.points.count]) }
        }
        router.post("/collections/:collection/points/query") { request, context in
            let name = try context.parameters.require("collection")
            let body = try await jsonObject(request)
            guard let query = (body["query"] as? [NSNumber])?.map({ $0.floatValue }) else {
                return error(.unprocessableContent, "Format error in JSON body: this double answers `query` given as a dense vector")
            }
            let limit = (body["limit"] as? NSNumber)?.intValue ?? 10
            let withPayload = body["with_payload"] ?? false
            let withVector = body["with_vector"] as? Bool ?? false
            return await state.read(name) { collection in
                guard query.count == collection.size else {
                    return error(.badRequest, "Wrong input: Vector dimension error: expected dim: \(collection.size), got \(query.count)")
                }
                let scored = collection.points.map { id, point in (id, point, collection.score(query, point.vector)) }
                let ordered = scored.sorted { collection.distance == "Euclid" || collection.distance == "Manhattan" ? $0.2 < $1.2 : $0.2 > $1.2 }
                let points: [[String: Any]] = ordered.prefix(limit).map { id, point, score in
                    var entry = record(id: id, point: point, withPayload: withPayload, withVector: withVector)
                    entry["score"] = score
                    entry["version"] = collection.operations
                    return entry
                }
                return ok(["points": points])
            }
        }
    }

    /// Qdrant's point ids: an unsigned integer, or a UUID (answered in its lower-case hyphenated form).
    static func pointID(_ value: Any) -> String? {
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double >= 0, double.rounded() == double else { return nil }
            return String(number.uint64Value)
        }
        if let text = value as? String, let uuid = UUID(uuidString: text) { return uuid.uuidString.lowercased() }
        return nil
    }

    /// Qdrant's order of point ids: integers by value before UUIDs.
    static func scrollOrder(_ left: String, _ right: String) -> Bool {
        switch (UInt64(left), UInt64(right)) {
        case (let l?, let r?): l < r
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): left < right
        }
    }

    static func record(id: String, point: QdrantState.Point, withPayload: Any?, withVector: Bool) -> [String: Any] {
        var record: [String: Any] = ["id": UInt64(id).map { $0 as Any } ?? id]
        switch withPayload {
        case let all as Bool: if all { record["payload"] = point.payload }
        case let fields as [String]: record["payload"] = point.payload.filter { fields.contains($0.key) }
        case nil: record["payload"] = point.payload
        default: break
        }
        if withVector { record["vector"] = point.vector }
        return record
    }

    static func jsonObject(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "Format error in JSON body: expected an object")
        }
        return object
    }

    static func ok(_ result: Any) -> Response {
        respond(.ok, ["result": result, "status": "ok", "time": 0.0001])
    }

    static func updated(_ operation: Int) -> Response {
        ok(["operation_id": operation, "status": "completed"])
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        respond(status, ["status": ["error": message], "time": 0.0001, "result": NSNull()])
    }

    static func notFound(collection: String) -> Response {
        error(.notFound, "Not found: Collection `\(collection)` doesn't exist!")
    }

    static func respond(_ status: HTTPResponse.Status, _ body: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        if let checking = OpenAPIMiddleware.checking {
            let problems = checking.api.checkResponse(
                checking.operation, status: status.code, body: (try? JSONValue.parse(String(decoding: data, as: UTF8.self))) ?? .null)
            if !problems.isEmpty {
                checking.violations.record(problems)
                let message = "the Qdrant double's answer breaks openapi.json: \(problems.joined(separator: "; "))"
                return Response(status: .internalServerError, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: message)))
            }
        }
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Refuses requests without the configured key, as Qdrant does (`api-key` header or `Authorization: Bearer`).
struct APIKeyMiddleware: RouterMiddleware {
    let apiKey: String?

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard let apiKey else { return try await next(request, context) }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let given = request.headers[HTTPField.Name("api-key")!] ?? bearer
        guard let given else { return QdrantServer.error(.unauthorized, "Must provide an API key or an Authorization bearer token") }
        guard given == apiKey else { return QdrantServer.error(.unauthorized, "Invalid API key or JWT") }
        return try await next(request, context)
    }
}

/// The double's collections and points.
actor QdrantState {
    struct Point: @unchecked Sendable {
        var vector: [Float]
        /// JSON values as JSONSerialization reads them.
        var payload: [String: Any]
    }

    struct Collection: @unchecked Sendable {
        var size: Int
        var distance: String
        var metadata: [String: Any]
        var shardNumber = 1
        var replicationFactor = 1
        var points: [String: Point] = [:]
        var operations = 0
        /// Shard id → peer id → replica state ("Active", "Partial" while a transfer fills it, "Recovery" while a
        /// snapshot is recovered into it).
        var replicas: [Int: [UInt64: String]] = [:]
        var transfers: [ShardTransfer] = []
        /// Replicas recovering from a snapshot: when each turns Active.
        var recoveries: [ShardRecovery] = []

        mutating func nextOperation() -> Int {
            operations += 1
            return operations
        }

        var info: [String: Any] {
            [
                "status": "green", "optimizer_status": "ok", "segments_count": 1, "points_count": points.count,
                "indexed_vectors_count": points.count, "payload_schema": [String: Any](),
                "config": [
                    "params": [
                        "vectors": ["size": size, "distance": distance], "shard_number": shardNumber,
                        "replication_factor": replicationFactor, "write_consistency_factor": 1,
                    ] as [String: Any],
                    "hnsw_config": ["m": 16, "ef_construct": 100, "full_scan_threshold": 10000],
                    "optimizer_config": [
                        "deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0, "flush_interval_sec": 5,
                    ],
                    "metadata": metadata,
                ] as [String: Any],
            ]
        }

        /// Qdrant's scores: cosine and dot similarity (higher is nearer), Euclid and Manhattan distance (lower is).
        func score(_ query: [Float], _ vector: [Float]) -> Float {
            switch distance {
            case "Cosine":
                let norms = (query.reduce(0) { $0 + $1 * $1 } * vector.reduce(0) { $0 + $1 * $1 }).squareRoot()
                return norms == 0 ? 0 : zip(query, vector).reduce(0) { $0 + $1.0 * $1.1 } / norms
            case "Dot": return zip(query, vector).reduce(0) { $0 + $1.0 * $1.1 }
            case "Euclid": return zip(query, vector).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            default: return zip(query, vector).reduce(0) { $0 + abs($1.0 - $1.1) }
            }
        }
    }

    var collections: [String: Collection] = [:]
    var cluster: ClusterPeers
    /// Snapshot name → the shard snapshot a peer keeps.
    var snapshots: [String: ShardSnapshot] = [:]

    init(cluster simulation: QdrantClusterSimulation?) {
        cluster = ClusterPeers(simulation: simulation)
    }

    func create(_ name: String, collection: Collection) -> Bool {
        guard collections[name] == nil else { return false }
        var collection = collection
        collection.replicas = cluster.placement(shards: collection.shardNumber, replicationFactor: collection.replicationFactor)
        collections[name] = collection
        return true
    }

    func delete(_ name: String) -> Bool {
        collections.removeValue(forKey: name) != nil
    }

    func mutate(_ name: String, _ change: (inout Collection) -> Response) -> Response {
        settleTransfers()
        guard var collection = collections[name] else { return QdrantServer.notFound(collection: name) }
        let response = change(&collection)
        collections[name] = collection
        return response
    }

    func read(_ name: String, _ answer: (Collection) -> Response) -> Response {
        settleTransfers()
        guard let collection = collections[name] else { return QdrantServer.notFound(collection: name) }
        return answer(collection)
    }
}
