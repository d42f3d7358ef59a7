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

    /// `kbctl addon list`: each addon kbctl ships, whether its definition is installed, and its status; with
    /// `-o yaml|json|name`, the installed ClusterDefinitions and ClusterVersions of those addons (what being enabled is).
    public func listAddons() async throws -> String {
        let printer = try printer(.addonList)
        let names = Set(Self.addons.map(\.name))
        let definitions = try await call(ClusterDefinition.descriptor, verb: "list") {
            try await client.list(ClusterDefinition.self).items
        }.filter { names.contains($0.metadata?.name ?? "") }
        let versions = try await call(ClusterVersion.descriptor, verb: "list") { try await client.list(ClusterVersion.self).items }
            .filter { names.contains($0.spec.clusterDefinitionRef) }
        let objects = try definitions.map(PrintedObject.init) + versions.map(PrintedObject.init)
        return try await printer.print(objects, single: false) { wide in
            var headers = ["NAME", "APP-VERSION", "STATUS", "DEFINITION-STATUS", "VERSIONS"]
            if wide { headers += ["COMPONENTS", "IMAGES"] }
            let rows = Self.addons.map { addon -> [String] in
                let definition = definitions.first { $0.metadata?.name == addon.name }
                let installed = versions.filter { $0.spec.clusterDefinitionRef == addon.name }
                let installedNames = installed.compactMap(\.metadata?.name).sorted()
                var row = [
                    addon.name, addon.appVersion, definition == nil ? "Disabled" : "Enabled",
                    definition?.status?.phase?.rawValue ?? "-", installedNames.isEmpty ? "-" : installedNames.joined(separator: ","),
                ]
                if wide {
                    let components = definition?.spec.componentDefs.map(\.name) ?? []
                    let images = installed.flatMap { $0.spec.componentVersions.flatMap { ($0.versionsContext.containers ?? []).compactMap(\.image) } }
                    row += [components.isEmpty ? "-" : components.joined(separator: ","), images.isEmpty ? "-" : images.joined(separator: ",")]
                }
                return row
            }
            return Table(headers: headers, rows: rows).render(width: width)
        }
    }

    /// `kbctl addon enable`: the addon's ConfigMaps, ClusterDefinition and ClusterVersion, applied server-side
    /// (again is harmless), into `vectorblocks-system`.
    @discardableResult
    public func enableAddon(_ name: String) async throws -> String {
        let printer = try printer(.addonEnable)
        let objects = try Self.addon(named: name).objects()
        let manager = "kbctl"
        _ = try await call(CoreV1.Namespace.descriptor, verb: "patch") {
            try await client.apply(CoreV1.Namespace(metadata: .init(name: Addon.defaultNamespace)), fieldManager: manager, force: true)
        }
        for configMap in objects.configMaps {
            _ = try await call(CoreV1.ConfigMap.descriptor, verb: "patch") { try await client.apply(configMap, fieldManager: manager, force: true) }
        }
        let definition = try await call(ClusterDefinition.descriptor, verb: "patch") {
            try await client.apply(objects.definition, fieldManager: manager, force: true)
        }
        let version = try await call(ClusterVersion.descriptor, verb: "patch") { try await client.apply(objects.version, fieldManager: manager, force: true) }
        return try await printer.print([PrintedObject(definition), PrintedObject(version)], single: false) { _ in "addon \(name) enabled\n" }
    }

    /// `kbctl addon disable`: refused while a Cluster uses the addon, so no cluster loses its definition.
    @discardableResult
    public func disableAddon(_ name: String) async throws -> String {
        let printer = try printer(.addonDisable)
        let objects = try Self.addon(named: name).objects()
        let users = try await call(Cluster.descriptor, verb: "list") { try await client.listAll(Cluster.self).items }
            .filter { $0.spec.clusterDefinitionRef == name }
        if !users.isEmpty {
            throw CLIError(
                "addon \"\(name)\" is used by \(users.map { "\($0.metadata?.namespace ?? "")/\($0.metadata?.name ?? "")" }.joined(separator: ", ")); delete those clusters first"
            )
        }
        var removed: [(ResourceDescriptor, String)] = []
        func deleteIfPresent(_ descriptor: ResourceDescriptor, _ objectName: String?, namespace: String? = nil) async throws {
            guard let objectName else { return }
            do {
                try await client.delete(descriptor, name: objectName, namespace: namespace)
                removed.append((descriptor, objectName))
            } catch let error as KubeAPIError where error.isNotFound {
            } catch {
                throw CLIError.from(error, resource: descriptor, verb: "delete")
            }
        }
        try await deleteIfPresent(ClusterVersion.descriptor, objects.version.metadata?.name)
        try await deleteIfPresent(ClusterDefinition.descriptor, name)
        for configMap in objects.configMaps {
            try await deleteIfPresent(CoreV1.ConfigMap.descriptor, configMap.metadata?.name, namespace: configMap.metadata?.namespace)
        }
        return printer.print(names: removed, verb: "deleted", text: "addon \(name) disabled\n")
    }
}
