import KubeKit

/// Server-side apply (`application/apply-patch+yaml`): merges an applied configuration into the live object,
/// tracks what each applier owns, and refuses to overwrite another manager's fields unless forced.
struct ServerSideApply {
    struct Conflict: Sendable {
        var manager: String
        var apiVersion: String
        var path: FieldPath
    }

    struct Conflicts: Error, Sendable {
        var items: [Conflict]
    }

    let schema: SchemaNavigator

    /// - Returns: the new object with its managedFields, or the conflicts when `force` is false.
    func apply(
        config: JSONValue, to live: JSONValue, manager: String, apiVersion: String, subresource: String?,
        force: Bool, now: String
    ) -> Result<JSONValue, Conflicts> {
        var entries = ManagedFields.entries(of: live)
        let configPaths = FieldSet.paths(of: config, schema: schema)
        var merged = merge(live: live, config: config, steps: [])
        let isMine = { (entry: ManagedFieldsEntry) in
            entry.manager == manager && entry.operation == "Apply" && entry.subresource == subresource
        }

        var conflicts: [Conflict] = []
        for index in entries.indices where !isMine(entries[index]) {
            let overlap = entries[index].fields.intersection(configPaths)
            for path in overlap where path.last != "." {
                let before = FieldSet.value(at: path, in: live)
                let after = FieldSet.value(at: path, in: merged)
                if before != nil, !Self.same(before, after) {
                    conflicts.append(Conflict(manager: entries[index].manager, apiVersion: entries[index].apiVersion, path: path))
                }
            }
        }
        if !conflicts.isEmpty, !force {
            return .failure(Conflicts(items: conflicts.sorted { FieldSet.describe($0.path) < FieldSet.describe($1.path) }))
        }
        // Appliers share fields whose values agree; forced or changed fields move to this applier.
        let changed = Set(conflicts.map(\.path))
        for index in entries.indices where !isMine(entries[index]) {
            entries[index].fields.subtract(changed)
            if entries[index].operation == "Update" {
                entries[index].fields = entries[index].fields.filter { path in
                    !configPaths.contains(path) || Self.same(FieldSet.value(at: path, in: live), FieldSet.value(at: path, in: merged))
                }
            }
        }

        // Fields this applier set before and leaves out now are removed unless someone else still owns them.
        let previous = entries.first(where: isMine)?.fields ?? []
        let othersOwn = entries.filter { !isMine($0) }.reduce(into: Set<FieldPath>()) { $0.formUnion($1.fields) }
        // Whole list items go first: once an item's key fields were removed, the item could no longer be found.
        let abandoned = previous.subtracting(configPaths).subtracting(othersOwn).sorted { lhs, rhs in
            (lhs.last == ".") != (rhs.last == ".") ? lhs.last == "." : lhs.count > rhs.count
        }
        for path in abandoned {
            if path.last == "." {
                merged = FieldSet.removing(path, from: merged)
            } else if !previous.contains(path + ["."]) && !hasDescendant(path, in: configPaths.union(othersOwn)) {
                merged = FieldSet.removing(path, from: merged)
            }
        }

        entries.removeAll(where: isMine)
        entries.append(ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now, subresource: subresource, fields: configPaths))
        ManagedFields.store(entries, in: &merged)
        return .success(merged)
    }

    private func hasDescendant(_ path: FieldPath, in set: Set<FieldPath>) -> Bool {
        set.contains { $0.count > path.count && Array($0.prefix(path.count)) == path }
    }

    private static func same(_ lhs: JSONValue?, _ rhs: JSONValue?) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a)?, .double(let b)?), (.double(let b)?, .int(let a)?): Double(a) == b
        default: lhs == rhs
        }
    }

    /// Maps merge recursively, list-maps merge item by item by their keys, everything else is replaced.
    func merge(live: JSONValue?, config: JSONValue, steps: [SchemaNavigator.Step]) -> JSONValue {
        switch (live, config) {
        case (.object(var result)?, .object(let applied)):
            for (key, value) in applied {
                if value == .null {
                    result[key] = nil
                } else if steps.isEmpty, key == "metadata" {
                    result[key] = merge(live: result[key], config: value, steps: [.field(key)])
                } else {
                    result[key] = merge(live: result[key], config: value, steps: steps + [.field(key)])
                }
            }
            return .object(result)
        case (.array(var result)?, .array(let applied)):
            guard let keys = schema.listMapKeys(at: steps), let appliedTokens = FieldSet.itemTokens(applied, keys: keys),
                let liveTokens = FieldSet.itemTokens(result, keys: keys)
            else { return config }
            for (item, token) in zip(applied, appliedTokens) {
                if let index = liveTokens.firstIndex(of: token) {
                    result[index] = merge(live: result[index], config: item, steps: steps + [.item])
                } else {
                    result.append(item)
                }
            }
            return .array(result)
        default:
            return config
        }
    }
}
