import KubeKit

/// Strategic merge patch for built-in kinds: a JSON merge patch in which lists whose schema declares
/// `x-kubernetes-patch-strategy: merge` merge item by item on their `x-kubernetes-patch-merge-key`, with the
/// `$patch` (replace/delete/merge), `$retainKeys`, `$deleteFromPrimitiveList/` and `$setElementOrder/` directives.
struct StrategicMergePatch {
    let schema: SchemaNavigator

    func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        merge(patch, into: target, steps: [])
    }

    private func mergeKey(at steps: [SchemaNavigator.Step]) -> (key: String?, merges: Bool) {
        guard let list = schema.node(at: steps) else {
            return steps == [.field("metadata"), .field("ownerReferences")] ? ("uid", true) : (nil, false)
        }
        guard let strategy = list["x-kubernetes-patch-strategy"]?.stringValue, strategy.contains("merge") else { return (nil, false) }
        return (list["x-kubernetes-patch-merge-key"]?.stringValue, true)
    }

    private func merge(_ patch: JSONValue, into target: JSONValue, steps: [SchemaNavigator.Step]) -> JSONValue {
        guard case .object(var patchObject) = patch else { return patch }
        if let directive = patchObject.removeValue(forKey: "$patch")?.stringValue {
            if directive == "replace" { return .object(patchObject) }
            if directive == "delete" { return .null }
        }
        var result = target.objectValue ?? [:]
        if let retain = patchObject.removeValue(forKey: "$retainKeys")?.arrayValue?.compactMap(\.stringValue) {
            result = result.filter { retain.contains($0.key) }
        }
        for (key, value) in patchObject {
            if key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.arrayValue ?? []
                if let items = result[field]?.arrayValue { result[field] = .array(items.filter { !remove.contains($0) }) }
                continue
            }
            let childSteps = steps + [.field(key)]
            if value == .null {
                result[key] = nil
            } else if case .array(let patchItems) = value, case .array(let liveItems)? = result[key] {
                result[key] = mergeList(patchItems, into: liveItems, steps: childSteps)
            } else if case .array(let patchItems) = value {
                result[key] = .array(patchItems.filter { $0["$patch"] == nil }.map { stripDirectives($0) })
            } else if case .object = value {
                let merged = merge(value, into: result[key] ?? .object([:]), steps: childSteps)
                result[key] = merged == .null ? nil : merged
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }

    private func mergeList(_ patchItems: [JSONValue], into liveItems: [JSONValue], steps: [SchemaNavigator.Step]) -> JSONValue {
        let (key, merges) = mergeKey(at: steps)
        guard merges else { return .array(patchItems.map { stripDirectives($0) }) }
        if patchItems.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patchItems.filter { $0["$patch"] == nil })
        }
        var result = liveItems
        for item in patchItems {
            guard let key, case .object = item else {
                if !result.contains(item) { result.append(item) }  // primitive lists merge as sets
                continue
            }
            let keyValue = item[key]
            let index = result.firstIndex { $0[key] == keyValue && keyValue != nil }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                result[index] = merge(item, into: result[index], steps: steps + [.item])
            } else {
                result.append(merge(item, into: .object([:]), steps: steps + [.item]))
            }
        }
        return .array(result)
    }

    private func stripDirectives(_ value: JSONValue) -> JSONValue {
        guard case .object(var object) = value else { return value }
        for key in object.keys where key.hasPrefix("$") { object[key] = nil }
        return .object(object.mapValues { stripDirectives($0) })
    }
}
