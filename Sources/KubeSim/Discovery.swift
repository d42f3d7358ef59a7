import KubeKit

/// The discovery documents, in the plain (non-aggregated) JSON forms every kubectl understands.
enum Discovery {
    static func version() -> JSONValue {
        [
            "major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
            "gitTreeState": "clean", "buildDate": "2024-12-11T17:56:38Z", "goVersion": "go1.23.3", "compiler": "gc",
            "platform": "linux/amd64",
        ]
    }

    static func coreVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static func group(_ name: String, registry: ResourceRegistry) -> JSONValue? {
        let versions = registry.versions(ofGroup: name)
        guard let preferred = versions.first else { return nil }
        func entry(_ version: String) -> JSONValue {
            ["groupVersion": .string("\(name)/\(version)"), "version": .string(version)]
        }
        return [
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(name),
            "versions": .array(versions.map(entry)), "preferredVersion": entry(preferred),
        ]
    }

    static func groupList(registry: ResourceRegistry) -> JSONValue {
        var groups: [JSONValue] = []
        for name in registry.groups {
            guard var group = Self.group(name, registry: registry) else { continue }
            group["kind"] = nil
            group["apiVersion"] = nil
            groups.append(group)
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    static func resourceList(group: String, version: String, registry: ResourceRegistry) -> JSONValue? {
        guard let resources = registry.byGroupVersion[group.isEmpty ? version : "\(group)/\(version)"] else { return nil }
        var entries: [JSONValue] = []
        for resource in resources.values.sorted(by: { $0.plural < $1.plural }) {
            var entry: [String: JSONValue] = [
                "name": .string(resource.plural), "singularName": .string(resource.singular),
                "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                "verbs": .array(resource.verbs.map(JSONValue.string)),
            ]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSONValue.string)) }
            if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map(JSONValue.string)) }
            entries.append(.object(entry))
            if resource.subresources.contains("status") {
                entries.append([
                    "name": .string(resource.plural + "/status"), "singularName": "", "namespaced": .bool(resource.namespaced),
                    "kind": .string(resource.kind), "verbs": ["get", "patch", "update"],
                ])
            }
            if resource.subresources.contains("token") {
                entries.append([
                    "name": .string(resource.plural + "/token"), "singularName": "", "namespaced": .bool(resource.namespaced),
                    "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest", "verbs": ["create"],
                ])
            }
            if resource.subresources.contains("scale") {
                entries.append([
                    "name": .string(resource.plural + "/scale"), "singularName": "", "namespaced": .bool(resource.namespaced),
                    "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(entries),
        ]
    }
}
