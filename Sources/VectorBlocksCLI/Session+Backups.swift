import Foundation
import KubeKit
import VectorBlocksAPI

extension Session {
    /// `kbctl cluster backup`: a Backup of the Cluster, its method and repository from the Cluster's `spec.backup`
    /// unless the flags say otherwise.
    public func createBackup(_ creation: BackupCreation, now: Date = Date()) async throws -> Backup {
        let cluster = try await getCluster(creation.cluster)
        let definition = try? await client.get(ClusterDefinition.self, name: cluster.spec.clusterDefinitionRef)
        let engine = definition?.spec.type ?? cluster.spec.clusterDefinitionRef
        let backup = try creation.backup(of: cluster, engine: engine, now: now)
        do {
            return try await client.create(backup)
        } catch let error as KubeAPIError where error.isAlreadyExists {
            throw CLIError("backup \"\(backup.metadata?.name ?? "")\" already exists in namespace \"\(namespace)\"; choose another --backup-name")
        } catch {
            throw CLIError.from(error, resource: Backup.descriptor, verb: "create")
        }
    }

    /// What `kbctl cluster backup` prints: the Backup made, and how to follow it.
    public func printBackupCreated(_ backup: Backup) async throws -> String {
        let name = backup.metadata?.name ?? ""
        return try await printer(.clusterBackup).print([PrintedObject(backup)], single: true) { _ in
            "Backup \(name) of cluster \(backup.spec.clusterName) created (\(backup.spec.backupMethod.rawValue), deletionPolicy "
                + "\((backup.spec.deletionPolicy ?? .delete).rawValue)); follow it with kbctl cluster list-backups \(backup.spec.clusterName)\n"
        }
    }

    public func getBackup(_ name: String) async throws -> Backup {
        do {
            return try await client.get(Backup.self, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound && error.message.contains("\"\(name)\"") {
            throw CLIError("backup \"\(name)\" not found in namespace \"\(namespace)\"; see kbctl cluster list-backups")
        } catch {
            throw CLIError.from(error, resource: Backup.descriptor)
        }
    }

    /// `kbctl cluster list-backups [CLUSTER]`: NAME, CLUSTER, METHOD, STATUS, SIZE, CREATE-TIME, COMPLETION-TIME (and
    /// NAMESPACE with `-A`; with `-o wide` the deletion policy, the duration, the expiry and why it failed).
    public func listBackups(cluster: String? = nil, allNamespaces: Bool = false) async throws -> String {
        let printer = try printer(.clusterListBackups)
        let backups = try await call(Backup.descriptor, verb: "list") {
            try await client.listAll(Backup.self, namespace: allNamespaces ? nil : namespace).items
        }.filter { cluster == nil || $0.spec.clusterName == cluster }
        return try await printer.print(try backups.map(PrintedObject.init), single: false) { wide in
            backupsTable(backups, wide: wide, allNamespaces: allNamespaces)
        }
    }

    func backupsTable(_ backups: [Backup], wide: Bool, allNamespaces: Bool) -> String {
        if backups.isEmpty { return "No backups found in \(allNamespaces ? "any namespace" : "namespace \(namespace)").\n" }
        var headers = ["NAME", "CLUSTER", "METHOD", "STATUS", "SIZE", "CREATE-TIME", "COMPLETION-TIME"]
        if allNamespaces { headers.insert("NAMESPACE", at: 1) }
        if wide { headers += ["DELETION-POLICY", "DURATION", "EXPIRATION", "MESSAGE"] }
        let rows = backups.map { backup in
            var row = [
                backup.metadata?.name ?? "", backup.spec.clusterName, backup.spec.backupMethod.rawValue, backup.status?.phase?.rawValue ?? "New",
                backup.status?.totalSize.map(ByteSize.text) ?? "", Self.timestamp(backup.metadata?.creationTimestamp),
                backup.status?.completionTimestamp.map { Self.timestamp($0) } ?? "",
            ]
            if allNamespaces { row.insert(backup.metadata?.namespace ?? "", at: 1) }
            if wide {
                row += [
                    (backup.spec.deletionPolicy ?? .delete).rawValue, Self.duration(backup.status), backup.status?.expiration.map { Self.timestamp($0) } ?? "",
                    backup.status?.failureReason ?? "",
                ]
            }
            return row
        }
        return Table(headers: headers, rows: rows).render(width: width)
    }

    static func duration(_ status: BackupStatus?) -> String {
        guard let start = status?.startTimestamp?.date, let end = status?.completionTimestamp?.date else { return "" }
        let seconds = max(0, Int(end.timeIntervalSince(start)))
        if seconds < 60 { return "\(seconds)s" }
        return seconds < 3_600 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds / 3_600)h\(seconds % 3_600 / 60)m"
    }

    /// `kbctl cluster delete-backup`: deletes the Backup; its data in the repository goes with it unless its
    /// deletionPolicy is Retain, which the table says.
    @discardableResult
    public func deleteBackup(_ name: String) async throws -> String {
        let printer = try printer(.clusterDeleteBackup)
        let backup = try await getBackup(name)
        _ = try await call(Backup.descriptor, verb: "delete") { try await client.delete(Backup.self, name: name, namespace: namespace) }
        let location = backup.status?.repository.map { "s3://\($0.bucket)/\(backup.status?.path ?? "")" } ?? "the repository"
        let data =
            backup.spec.deletionPolicy == .retain
            ? "its data stays in \(location) (deletionPolicy Retain)" : "its data in \(location) is deleted with it (deletionPolicy Delete)"
        return printer.print(names: [(Backup.descriptor, name)], verb: "deleted", text: "Backup/\(name) deleted: \(data)\n")
    }

    /// `kbctl cluster restore`: a new Cluster made from a Completed Backup.
    public func restoreCluster(_ restoration: ClusterRestoration, now: Date = Date()) async throws -> Cluster {
        let backup = try await getBackup(restoration.backup)
        if (try? await client.get(Cluster.self, name: restoration.name, namespace: namespace)) != nil {
            throw CLIError("cluster \"\(restoration.name)\" already exists in namespace \"\(namespace)\"; restore into a new name")
        }
        let source: ClusterRestoration.Source
        do {
            source = .cluster(try await client.get(Cluster.self, name: backup.spec.clusterName, namespace: namespace))
        } catch let error as KubeAPIError where error.isNotFound {
            source = BackupClusterSnapshot.spec(of: backup).map(ClusterRestoration.Source.snapshot) ?? .missing
        } catch {
            throw CLIError.from(error, resource: Cluster.descriptor)
        }
        let cluster = try restoration.cluster(from: backup, source: source, now: now)
        do {
            _ = try await client.get(ClusterDefinition.self, name: cluster.spec.clusterDefinitionRef)
        } catch let error as KubeAPIError where error.isNotFound {
            throw CLIError(
                "cluster definition \"\(cluster.spec.clusterDefinitionRef)\", which backup \"\(restoration.backup)\"'s Cluster used, is not installed; enable its addon (kbctl addon list)"
            )
        } catch {
            throw CLIError.from(error, resource: ClusterDefinition.descriptor)
        }
        return try await call(Cluster.descriptor, verb: "create") { try await client.create(cluster) }
    }

    /// What `kbctl cluster restore` prints: the Cluster made, and where its data comes from.
    public func printRestored(_ cluster: Cluster) async throws -> String {
        try await printer(.clusterRestore).print([PrintedObject(cluster)], single: true) { _ in
            let restore = cluster.spec.restoreFrom
            let point = restore?.restoreToTime.map { " as of \($0)" } ?? ""
            return "Cluster \(cluster.metadata?.name ?? "") created from backup \(restore?.backupName ?? "")\(point); "
                + "its Restored condition says when the data is back (kbctl cluster describe \(cluster.metadata?.name ?? ""))\n"
        }
    }
}
