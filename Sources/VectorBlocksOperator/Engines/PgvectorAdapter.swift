import KubeKit
import Logging
import PostgresNIO
import VectorBlocksPostgres

/// PostgreSQL with pgvector: the pod the operator designates starts as the primary and the others stream from it as
/// hot standbys. Each pod's role comes from the server itself (`pg_is_in_recovery()`) and the designation, so the
/// read-write Service follows the real, designated primary, and the vector extension is made on it once it is ready.
public struct PgvectorAdapter: EngineAdapter {
    static let port = 5432
    static let primary = "primary"
    static let secondary = "secondary"
    private let extensionsMade = ExtensionsMade()
    let logger: Logger

    public init(logger: Logger = Logger(label: "vectorblocks.engine.pgvector")) {
        self.logger = logger
    }

    public var reportsRoles: Bool { true }

    public func roles(_ component: EngineComponent) async -> [String: String] {
        var roles: [String: String] = [:]
        await withTaskGroup(of: (String, String?).self) { group in
            for pod in component.pods where ClusterStatusCalculator.isReady(pod) {
                guard let name = pod.metadata?.name else { continue }
                group.addTask {
                    let recovering = try? await self.query(pod, in: component) { connection in
                        let rows = try await connection.guardedQuery("SELECT pg_is_in_recovery()", logger: self.logger)
                        for try await inRecovery in rows.decode(Bool.self) { return inRecovery }
                        return nil
                    }
                    // A server that runs read-write but is not the designated primary is a former primary being
                    // fenced: the read-write Service must never select it.
                    let designated = component.designatedPrimary.map { $0 == name } ?? true
                    return (name, recovering.flatMap { $0 }.map { !$0 && designated ? Self.primary : Self.secondary })
                }
            }
            for await (name, role) in group {
                if let role { roles[name] = role }
            }
        }
        return roles
    }

    /// `CREATE EXTENSION IF NOT EXISTS vector` on the pod labelled primary, once per primary pod.
    public func componentReady(_ component: EngineComponent) async throws {
        guard let primary = component.pods.first(where: { $0.metadata?.labels?[ClusterNames.roleLabel] == Self.primary }),
            let uid = primary.metadata?.uid, await !extensionsMade.contains(uid)
        else { return }
        _ = try await query(primary, in: component) { connection in
            try await connection.guardedQuery("CREATE EXTENSION IF NOT EXISTS vector", logger: logger)
        }
        await extensionsMade.insert(uid)
    }

    func query<Result: Sendable>(
        _ pod: CoreV1.Pod, in component: EngineComponent, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard let address = component.addressing.address(pod, Self.port) else {
            throw Unreachable(pod: pod.metadata?.name ?? "")
        }
        var endpoint = PostgresEndpoint(
            host: address.host, port: address.port, username: component.credential["username"] ?? "postgres",
            password: component.credential["password"], database: "postgres", sslMode: .prefer)
        // A reconcile waits on these calls: neither a slow connection nor a stuck statement may hold it for long.
        endpoint.connectTimeout = .seconds(3)
        endpoint.statementTimeout = .seconds(5)
        return try await endpoint.withConnection(logger: logger, body)
    }

    struct Unreachable: Error, CustomStringConvertible {
        var pod: String
        var description: String { "pod \(pod) has no address to reach PostgreSQL at" }
    }
}

/// The primary pods (by uid) the extension was made on; a restarted operator makes it once more, harmlessly.
actor ExtensionsMade {
    private var uids: Set<String> = []

    func contains(_ uid: String) -> Bool { uids.contains(uid) }
    func insert(_ uid: String) { uids.insert(uid) }
}
