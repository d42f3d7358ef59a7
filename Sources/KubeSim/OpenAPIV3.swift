import KubeKit

/// `/openapi/v3`: an index of group-versions and one OpenAPI 3 document per group-version, built from the reference
/// swagger definitions (and the CRD schemas for custom resources). kubectl reads these to decide whether the server
/// validates fields itself (`fieldValidation`) and to build client-side apply patches.
enum OpenAPIV3 {
    static func index(registry: ResourceRegistry) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for (groupVersion, resources) in registry.byGroupVersion {
            let path = groupVersion.contains("/") ? "apis/\(groupVersion)" : "api/\(groupVersion)"
            var hasher = Hasher()
            for resource in resources.values.sorted(by: { $0.plural < $1.plural }) {
                hasher.combine(resource)
            }
            let hash = String(UInt64(bitPattern: Int64(hasher.finalize())), radix: 16, uppercase: true)
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash)")]
        }
        return ["paths": .object(paths)]
    }

    static func document(
        group: String, version: String, registry: ResourceRegistry, definitions: [String: JSONValue] = Swagger.shared.definitions
    ) -> JSONValue? {
        guard let resources = registry.byGroupVersion[group.isEmpty ? version : "\(group)/\(version)"] else { return nil }
        var schemas: [String: JSONValue] = [:]
        var pending: [String] = [
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        ]
        var paths: [String: JSONValue] = [:]
        for resource in resources.values.sorted(by: { $0.plural < $1.plural }) {
            let gvk: JSONValue = [["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)]]
            let schemaName: String
            if let definition = resource.definition {
                schemaName = definition
                pending.append(definition)
            } else {
                let reversedGroup = resource.group.split(separator: ".").reversed().joined(separator: ".")
                schemaName = "\(reversedGroup).\(resource.version).\(resource.kind)"
                var schema = resource.customSchema ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
                var properties = schema["properties"]?.objectValue ?? [:]
                properties["apiVersion"] = ["type": "string"]
                properties["kind"] = ["type": "string"]
                properties["metadata"] = ["allOf": [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]]]
                schema["properties"] = .object(properties)
                schema["x-kubernetes-group-version-kind"] = gvk
                schemas[schemaName] = schema
            }
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName)")]
            let content: JSONValue = ["application/json": ["schema": reference]]
            let writeParameters: JSONValue = [
                ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ]
            func operation(_ action: String, parameters: JSONValue = writeParameters) -> JSONValue {
                [
                    "x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk.arrayValue?.first ?? .null,
                    "parameters": parameters, "responses": ["200": ["description": "OK", "content": content]],
                ]
            }
            var patchParameters = writeParameters.arrayValue ?? []
            patchParameters.append(["name": "force", "in": "query", "schema": ["type": "boolean", "uniqueItems": true]])
            let base = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
            let collection = resource.namespaced ? "\(base)/namespaces/{namespace}/\(resource.plural)" : "\(base)/\(resource.plural)"
            paths[collection] = ["get": operation("list", parameters: []), "post": operation("post")]
            paths[collection + "/{name}"] = [
                "get": operation("get", parameters: []), "put": operation("put"),
                "patch": operation("patch", parameters: .array(patchParameters)), "delete": operation("delete", parameters: []),
            ]
        }
        while let name = pending.popLast() {
            guard schemas[name] == nil, let definition = definitions[name] else { continue }
            var references: [String] = []
            schemas[name] = rewrite(definition, references: &references)
            pending.append(contentsOf: references)
        }
        // Custom schemas reference ObjectMeta, already queued; rewrite nothing else in them.
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }

    /// Moves `#/definitions/` references to `#/components/schemas/` and wraps sibling-less refs the way the real
    /// v3 documents do.
    private static func rewrite(_ node: JSONValue, references: inout [String]) -> JSONValue {
        switch node {
        case .object(let object):
            var result: [String: JSONValue] = [:]
            for (key, value) in object {
                if key == "$ref", let text = value.stringValue {
                    let name = Swagger.definitionName(of: text)
                    references.append(name)
                    result[key] = .string("#/components/schemas/\(name)")
                } else {
                    result[key] = rewrite(value, references: &references)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map { rewrite($0, references: &references) })
        default:
            return node
        }
    }
}
