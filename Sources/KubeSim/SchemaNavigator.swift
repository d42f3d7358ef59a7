import KubeKit

/// Answers structural questions about a kind's schema (which lists are maps keyed by which fields), from the swagger
/// definitions for built-in kinds and from the CRD's openAPIV3Schema for custom resources.
struct SchemaNavigator: Sendable {
    enum Step: Hashable, Sendable {
        case field(String)
        case item
    }

    let root: JSONValue?
    let definitions: [String: JSONValue]
    /// A built-in kind, stored through Go types (whose `omitempty` drops empty maps and lists), not a custom resource.
    let isBuiltin: Bool

    init(resource: APIResource, definitions: [String: JSONValue] = Swagger.shared.definitions) {
        self.definitions = definitions
        isBuiltin = resource.definition != nil
        if let definition = resource.definition {
            root = definitions[definition]
        } else {
            root = resource.customSchema
        }
    }

    private func resolve(_ node: JSONValue?) -> JSONValue? {
        var current = node
        var guardCount = 0
        while let ref = current?["$ref"]?.stringValue, guardCount < 8 {
            current = definitions[Swagger.definitionName(of: ref)]
            guardCount += 1
        }
        if current?["allOf"]?.arrayValue?.count == 1, let only = current?["allOf"]?.arrayValue?.first {
            return resolve(only)
        }
        return current
    }

    func node(at steps: [Step]) -> JSONValue? {
        var current = resolve(root)
        for (index, step) in steps.enumerated() {
            switch step {
            case .field(let name):
                if index == 0, name == "metadata" {
                    current = definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
                    continue
                }
                current = resolve(current?["properties"]?[name] ?? current?["additionalProperties"])
            case .item:
                current = resolve(current?["items"])
            }
            if current == nil { return nil }
        }
        return current
    }

    /// The keys of a list that merges by key (`x-kubernetes-list-map-keys`, or a strategic merge key), or nil when
    /// the list is atomic.
    func listMapKeys(at steps: [Step]) -> [String]? {
        guard let list = node(at: steps) else {
            return steps == [.field("metadata"), .field("ownerReferences")] ? ["uid"] : nil
        }
        if list["x-kubernetes-list-type"]?.stringValue == "map",
            let keys = list["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue), !keys.isEmpty
        {
            return keys
        }
        if list["x-kubernetes-list-type"]?.stringValue == "atomic" { return nil }
        if let strategy = list["x-kubernetes-patch-strategy"]?.stringValue, strategy.contains("merge"),
            let key = list["x-kubernetes-patch-merge-key"]?.stringValue
        {
            return [key]
        }
        return nil
    }
}
