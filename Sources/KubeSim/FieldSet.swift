import Foundation
import KubeKit

/// A field path in the `FieldsV1` vocabulary: `f:spec`, `k:{"name":"app"}` (a list-map item), `v:"x"` (a set
/// member) and `.` (the item itself).
typealias FieldPath = [String]

/// Field sets as server-side apply tracks them, computed from an object and its schema.
enum FieldSet {
    /// Metadata fields that belong to the server, never to a field manager.
    private static let serverOwnedMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
        "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "generateName",
    ]

    /// The leaf paths of an object: every scalar, atomic list and empty map; list-map items as `k:{...}` with `.`.
    static func paths(of object: JSONValue, schema: SchemaNavigator) -> Set<FieldPath> {
        Set(leaves(of: object, schema: schema).keys)
    }

    /// The leaf paths of an object with the value at each (a list-map item's `.` path: the item), what
    /// `value(at:in:)` finds there, in one walk.
    static func leaves(of object: JSONValue, schema: SchemaNavigator) -> [FieldPath: JSONValue] {
        var result: [FieldPath: JSONValue] = [:]
        for (prefix, unit) in units(of: object) {
            collect(unit.value, steps: unit.steps, prefix: prefix, schema: schema, into: &result)
        }
        return result
    }

    /// What an update changed, walking only the units (top-level fields, and metadata's fields) whose values differ:
    /// a status write leaves the spec's leaves unvisited.
    static func changes(from old: JSONValue?, to new: JSONValue, schema: SchemaNavigator) -> FieldChanges {
        var changes = FieldChanges()
        let oldUnits = old.map(units(of:)) ?? [:]
        let newUnits = units(of: new)
        for (prefix, unit) in newUnits where oldUnits[prefix]?.value != unit.value {
            changes.differingUnits.insert(prefix)
            var newLeaves: [FieldPath: JSONValue] = [:]
            collect(unit.value, steps: unit.steps, prefix: prefix, schema: schema, into: &newLeaves)
            var oldLeaves: [FieldPath: JSONValue] = [:]
            if let before = oldUnits[prefix] { collect(before.value, steps: before.steps, prefix: prefix, schema: schema, into: &oldLeaves) }
            for (path, value) in newLeaves {
                changes.present.insert(path)
                if oldLeaves[path] != value { changes.changed.insert(path) }
            }
        }
        for prefix in oldUnits.keys where newUnits[prefix] == nil { changes.differingUnits.insert(prefix) }
        return changes
    }

    /// The parts of an object whose leaves are tracked, by path prefix: each top-level field but apiVersion and kind,
    /// and each metadata field the server does not own.
    private static func units(of object: JSONValue) -> [FieldPath: (value: JSONValue, steps: [SchemaNavigator.Step])] {
        var units: [FieldPath: (value: JSONValue, steps: [SchemaNavigator.Step])] = [:]
        guard case .object(let top) = object else { return units }
        for (key, value) in top where key != "apiVersion" && key != "kind" {
            if key == "metadata", case .object(let metadata) = value {
                for (field, child) in metadata where !serverOwnedMetadata.contains(field) {
                    units[["f:metadata", "f:" + field]] = (child, [.field("metadata"), .field(field)])
                }
                continue
            }
            units[["f:" + key]] = (value, [.field(key)])
        }
        return units
    }

    private static func collect(
        _ value: JSONValue, steps: [SchemaNavigator.Step], prefix: FieldPath, schema: SchemaNavigator, into result: inout [FieldPath: JSONValue]
    ) {
        switch value {
        case .object(let object) where !object.isEmpty:
            for (key, child) in object {
                collect(child, steps: steps + [.field(key)], prefix: prefix + ["f:" + key], schema: schema, into: &result)
            }
        case .array(let items):
            if let keys = schema.listMapKeys(at: steps), let tokens = itemTokens(items, keys: keys) {
                for (item, token) in zip(items, tokens) {
                    result[prefix + [token, "."]] = item
                    collect(item, steps: steps + [.item], prefix: prefix + [token], schema: schema, into: &result)
                }
            } else {
                result[prefix] = value
            }
        default:
            result[prefix] = value
        }
    }

    /// `k:{"name":"a"}` tokens for each item, or nil when an item lacks its keys (the list is then atomic).
    static func itemTokens(_ items: [JSONValue], keys: [String]) -> [String]? {
        var tokens: [String] = []
        for item in items {
            var keyObject: [String: JSONValue] = [:]
            for key in keys {
                guard let value = item[key] else {
                    if keys.count > 1 { continue }
                    return nil
                }
                keyObject[key] = value
            }
            guard !keyObject.isEmpty else { return nil }
            tokens.append("k:" + JSONValue.object(keyObject).canonicalJSON)
        }
        return Set(tokens).count == tokens.count ? tokens : nil
    }

    /// The value at a path, or nil when the object does not have it.
    static func value(at path: FieldPath, in object: JSONValue) -> JSONValue? {
        var current = object
        for token in path {
            if token == "." { continue }
            if token.hasPrefix("f:") {
                guard let next = current[String(token.dropFirst(2))] else { return nil }
                current = next
            } else if token.hasPrefix("k:") {
                guard let items = current.arrayValue, let keys = decode(token)?.objectValue,
                    let match = items.first(where: { item in keys.allSatisfy { item[$0.key] == $0.value } })
                else { return nil }
                current = match
            } else if token.hasPrefix("v:") {
                guard let items = current.arrayValue, let wanted = decode(token), items.contains(wanted) else { return nil }
                current = wanted
            } else {
                return nil
            }
        }
        return current
    }

    /// Removes the field (or list-map item, for a path ending in `.`) at a path; unchanged if absent.
    static func removing(_ path: FieldPath, from object: JSONValue) -> JSONValue {
        guard let token = path.first else { return object }
        let rest = Array(path.dropFirst())
        if token.hasPrefix("f:"), case .object(var map) = object {
            let key = String(token.dropFirst(2))
            if rest.isEmpty {
                map[key] = nil
            } else if let child = map[key] {
                map[key] = removing(rest, from: child)
            }
            return .object(map)
        }
        if token.hasPrefix("k:"), case .array(var items) = object, let keys = decode(token)?.objectValue,
            let index = items.firstIndex(where: { item in keys.allSatisfy { item[$0.key] == $0.value } })
        {
            if rest == ["."] {
                items.remove(at: index)
            } else {
                items[index] = removing(rest, from: items[index])
            }
            return .array(items)
        }
        return object
    }

    private static func decode(_ token: String) -> JSONValue? {
        try? JSONValue.parse(String(token.dropFirst(2)))
    }

    /// `FieldsV1` rendering: nested maps, `{}` at leaves. Built as a tree first: inserting each path into the JSON
    /// itself copied every map on its way down, once per path.
    static func fieldsV1(_ paths: Set<FieldPath>) -> JSONValue {
        final class Node {
            var children: [String: Node] = [:]
            var json: JSONValue { .object(children.mapValues(\.json)) }
        }
        let root = Node()
        for path in paths {
            var node = root
            for token in path {
                if let child = node.children[token] {
                    node = child
                } else {
                    let child = Node()
                    node.children[token] = child
                    node = child
                }
            }
        }
        return root.json
    }

    static func parse(fieldsV1: JSONValue) -> Set<FieldPath> {
        var result: Set<FieldPath> = []
        func walk(_ node: JSONValue, _ prefix: FieldPath) {
            guard let map = node.objectValue, !map.isEmpty else {
                if !prefix.isEmpty { result.insert(prefix) }
                return
            }
            for (key, child) in map {
                if key == "." { result.insert(prefix + ["."]) } else { walk(child, prefix + [key]) }
            }
        }
        walk(fieldsV1, [])
        return result
    }

    /// `.spec.containers[name="app"].image`, the form conflict messages use.
    static func describe(_ path: FieldPath) -> String {
        var text = ""
        for token in path {
            if token.hasPrefix("f:") {
                text += "." + token.dropFirst(2)
            } else if token.hasPrefix("k:"), let keys = decode(token)?.objectValue {
                let parts = keys.sorted { $0.key < $1.key }.map { key, value -> String in
                    let rendered = value.canonicalJSON
                    return "\(key)=\(rendered)"
                }
                text += "[" + parts.joined(separator: ",") + "]"
            } else if token.hasPrefix("v:") {
                text += "[=" + token.dropFirst(2) + "]"
            }
        }
        return text
    }
}

/// What an update changed, as field ownership needs it (see `FieldSet.changes`).
struct FieldChanges {
    /// Leaf paths whose value is new or different.
    var changed: Set<FieldPath> = []
    /// The prefixes of the units that differ: `["f:status"]`, `["f:metadata", "f:labels"]`.
    var differingUnits: Set<FieldPath> = []
    /// Every leaf path of the new object within a differing unit.
    var present: Set<FieldPath> = []

    /// Whether an owned path is still there after the update: its unit is as it was, or the new object has it.
    func keeps(_ path: FieldPath) -> Bool {
        present.contains(path) || !differingUnits.contains(Self.unit(of: path))
    }

    private static func unit(of path: FieldPath) -> FieldPath {
        Array(path.prefix(path.first == "f:metadata" ? 2 : 1))
    }
}
