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
        var removed: [FieldPath] = []
        for path in abandoned {
            if path.last == "." || (!previous.contains(path + ["."]) && !hasDescendant(path, in: configPaths.union(othersOwn))) {
                merged = FieldSet.removing(path, from: merged)
                removed.append(path)
            }
        }
        merged = droppingEmptied(above: removed, in: merged, keeping: configPaths.union(othersOwn))

        // Kept rather than made anew: the same fields applied again (an operator's steady state) keep their fieldsV1.
        var mine =
            entries.first(where: isMine)
            ?? ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now, subresource: subresource, fields: configPaths)
        mine.fields = configPaths
        mine.apiVersion = apiVersion
        mine.time = now
        entries.removeAll(where: isMine)
        entries.append(mine)
        ManagedFields.store(entries, in: &merged)
        return .success(merged)
    }

    /// Go leaves out a map or list field that is empty (`omitempty`), so in a built-in kind the last annotation,
    /// port or env var a manager owned takes its field with it; an empty struct such as `emptyDir: {}` stays, as does
    /// an empty map or list someone applied as such.
    private func droppingEmptied(above removed: [FieldPath], in object: JSONValue, keeping owned: Set<FieldPath>) -> JSONValue {
        guard schema.isBuiltin else { return object }
        let parents = Set(removed.flatMap { path in (1..<max(path.count, 1)).map { Array(path.prefix($0)) } })
        var result = object
        for parent in parents.sorted(by: { $0.count > $1.count }) where parent.last?.hasPrefix("f:") == true && !owned.contains(parent) {
            switch FieldSet.value(at: parent, in: result) {
            case .array(let items)? where items.isEmpty:
                result = FieldSet.removing(parent, from: result)
            case .object(let fields)? where fields.isEmpty && isMap(at: parent):
                result = FieldSet.removing(parent, from: result)
            default:
                continue
            }
        }
        return result
    }

    /// Whether the schema makes the field a map of free keys (Go's `map[string]T`) rather than a struct.
    private func isMap(at path: FieldPath) -> Bool {
        let steps = path.map { token -> SchemaNavigator.Step in token.hasPrefix("f:") ? .field(String(token.dropFirst(2))) : .item }
        guard let node = schema.node(at: steps) else { return false }
        return node["additionalProperties"] != nil && node["properties"] == nil
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
