import KubeKit
import VectorBlocksAPI
import VectorBlocksPackaging

extension Session {
    public static let addons: [Addon] = [.qdrant, .pgvector]

    static func addon(named name: String) throws -> Addon {
        guard let addon = addons.first(where: { $0.name == name }) else {
            throw CLIError("addon \"\(name)\" is unknown; use one of: \(addons.map(\.name).joined(separator: ", "))")
        }
        return addon
    }

    /// `kbctl addon list`: each addon kbctl ships, whether its definition is installed, and its status.
    public func listAddons() async throws -> String {
        let definitions = try await call(ClusterDefinition.descriptor, verb: "list") {
            try await client.list(ClusterDefinition.self).items
        }
        let versions = try await call(ClusterVersion.descriptor, verb: "list") { try await client.list(ClusterVersion.self).items }
        let rows = Self.addons.map { addon -> [String] in
            let definition = definitions.first { $0.metadata?.name == addon.name }
            let installed = versions.filter { $0.spec.clusterDefinitionRef == addon.name }.compactMap(\.metadata?.name).sorted()
            return [
                addon.name, addon.appVersion, definition == nil ? "Disabled" : "Enabled",
                definition?.status?.phase?.rawValue ?? "-", installed.isEmpty ? "-" : installed.joined(separator: ","),
            ]
        }
        return Table(headers: ["NAME", "APP-VERSION", "STATUS", "DEFINITION-STATUS", "VERSIONS"], rows: rows).render(width: width)
    }

    /// `kbctl addon enable`: the addon's ConfigMaps, ClusterDefinition and ClusterVersion, applied server-side
    /// (again is harmless), into `vectorblocks-system`.
    public func enableAddon(_ name: String) async throws {
        let objects = try Self.addon(named: name).objects()
        let manager = "kbctl"
        _ = try await call(CoreV1.Namespace.descriptor, verb: "patch") {
            try await client.apply(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)), fieldManager: manager, force: true)
        }
        for configMap in objects.configMaps {
            _ = try await call(CoreV1.ConfigMap.descriptor, verb: "patch") { try await client.apply(configMap, fieldManager: manager, force: true) }
        }
        _ = try await call(ClusterDefinition.descriptor, verb: "patch") { try await client.apply(objects.definition, fieldManager: manager, force: true) }
        _ = try await call(ClusterVersion.descriptor, verb: "patch") { try await client.apply(objects.version, fieldManager: manager, force: true) }
    }

    /// `kbctl addon disable`: refused while a Cluster uses the addon, so no cluster loses its definition.
    public func disableAddon(_ name: String) async throws {
        let objects = try Self.addon(named: name).objects()
        let users = try await call(Cluster.descriptor, verb: "list") { try await client.listAll(Cluster.self).items }
            .filter { $0.spec.clusterDefinitionRef == name }
        if !users.isEmpty {
            throw CLIError(
                "addon \"\(name)\" is used by \(users.map { "\($0.metadata?.namespace ?? "")/\($0.metadata?.name ?? "")" }.joined(separator: ", ")); delete those clusters first"
            )
        }
        func ignoringMissing(_ body: () async throws -> Void) async throws {
            do { try await body() } catch let error as KubeAPIError where error.isNotFound {}
        }
        if let version = objects.version.metadata?.name {
            try await ignoringMissing { try await client.delete(ClusterVersion.self, name: version) }
        }
        try await ignoringMissing { try await client.delete(ClusterDefinition.self, name: name) }
        for configMap in objects.configMaps {
            guard let configMapName = configMap.metadata?.name else { continue }
            try await ignoringMissing { try await client.delete(CoreV1.ConfigMap.self, name: configMapName, namespace: configMap.metadata?.namespace) }
        }
    }
}
