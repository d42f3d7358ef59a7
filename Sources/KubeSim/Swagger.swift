import Foundation
import KubeKit

/// The reference Kubernetes OpenAPI v2 document, parsed once per process: the raw bytes for `/openapi/v2`, the
/// definitions for schema questions (list-map keys), and the built-in resources read from its `paths`.
struct Swagger: Sendable {
    let data: Data
    let definitions: [String: JSONValue]
    let builtinResources: [APIResource]

    static let shared: Swagger = {
        guard let url = Bundle.module.url(forResource: "swagger", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let document = try? JSONValue.parse(data)
        else {
            return Swagger(data: Data("{}".utf8), definitions: [:], builtinResources: [])
        }
        return Swagger(
            data: data,
            definitions: document["definitions"]?.objectValue ?? [:],
            builtinResources: BuiltinResources.read(paths: document["paths"]?.objectValue ?? [:]))
    }()

    /// `io.k8s.api.core.v1.Pod` for `#/definitions/io.k8s.api.core.v1.Pod`. Resolved for every schema node a write
    /// walks, so a prefix is dropped rather than searched for with Foundation.
    static func definitionName(of reference: String) -> String {
        let prefix = "#/definitions/"
        return reference.hasPrefix(prefix) ? String(reference.dropFirst(prefix.count)) : reference
    }
}

/// Reads the served resources from swagger `paths` such as `/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/status`.
enum BuiltinResources {
    private struct Partial {
        var group = "", version = "", kind = "", plural = ""
        var namespaced = false
        var verbs: Set<String> = []
        var subresources: Set<String> = []
        var definition: String?
    }

    static func read(paths: [String: JSONValue]) -> [APIResource] {
        var partials: [String: Partial] = [:]  // "group/version/plural"
        for (path, item) in paths {
            guard let (group, version, rest) = split(path: path), let first = rest.first, first != "watch" else { continue }
            var segments = rest
            var namespaced = false
            if segments.count > 2, segments[0] == "namespaces", segments[1] == "{namespace}" {
                namespaced = true
                segments.removeFirst(2)
            }
            guard let plural = segments.first, !plural.hasPrefix("{") else { continue }
            let id = "\(group)/\(version)/\(plural)"
            var partial = partials[id] ?? Partial()
            partial.group = group
            partial.version = version
            partial.plural = plural
            if namespaced { partial.namespaced = true }
            for (method, operation) in item.objectValue ?? [:] where method != "parameters" {
                guard let action = operation["x-kubernetes-action"]?.stringValue else { continue }
                if segments.count > 3 { continue }  // e.g. pods/{name}/proxy/{path}
                if segments.count == 3 {
                    if ["status", "scale", "token", "log"].contains(segments[2]) { partial.subresources.insert(segments[2]) }
                    continue
                }
                guard let gvk = operation["x-kubernetes-group-version-kind"] else { continue }
                partial.kind = gvk["kind"]?.stringValue ?? partial.kind
                switch action {
                case "get": partial.verbs.insert("get")
                case "list": partial.verbs.formUnion(["list", "watch"])
                case "post": partial.verbs.insert("create")
                case "put": partial.verbs.insert("update")
                case "patch": partial.verbs.insert("patch")
                case "delete": partial.verbs.insert("delete")
                case "deletecollection": partial.verbs.insert("deletecollection")
                default: break
                }
                if action == "get", segments.count == 2,
                    let ref = operation["responses"]?["200"]?["schema"]?["$ref"]?.stringValue
                {
                    partial.definition = ref.replacingOccurrences(of: "#/definitions/", with: "")
                }
            }
            partials[id] = partial
        }
        return partials.values.filter { !$0.kind.isEmpty && !$0.verbs.isEmpty }.map { partial in
            let names = KnownNames.lookup(group: partial.group, plural: partial.plural)
            return APIResource(
                group: partial.group, version: partial.version, kind: partial.kind, plural: partial.plural,
                singular: partial.kind.lowercased(), namespaced: partial.namespaced,
                verbs: partial.verbs.sorted(), shortNames: names.shortNames, categories: names.categories,
                subresources: partial.subresources, definition: partial.definition, customSchema: nil)
        }
    }

    /// `/api/v1/x` → ("", "v1", ["x"]); `/apis/apps/v1/x` → ("apps", "v1", ["x"]).
    private static func split(path: String) -> (String, String, [String])? {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count >= 3, parts[0] == "api" { return ("", parts[1], Array(parts[2...])) }
        if parts.count >= 4, parts[0] == "apis" { return (parts[1], parts[2], Array(parts[3...])) }
        return nil
    }
}

/// Short names and categories the real API server reports for built-in kinds (kubectl relies on them: `po`, `all`).
enum KnownNames {
    static func lookup(group: String, plural: String) -> (shortNames: [String], categories: [String]) {
        switch (group, plural) {
        case ("", "pods"): (["po"], ["all"])
        case ("", "services"): (["svc"], ["all"])
        case ("", "replicationcontrollers"): (["rc"], ["all"])
        case ("", "configmaps"): (["cm"], [])
        case ("", "namespaces"): (["ns"], [])
        case ("", "nodes"): (["no"], [])
        case ("", "persistentvolumeclaims"): (["pvc"], [])
        case ("", "persistentvolumes"): (["pv"], [])
        case ("", "serviceaccounts"): (["sa"], [])
        case ("", "events"): (["ev"], [])
        case ("", "endpoints"): (["ep"], [])
        case ("", "limitranges"): (["limits"], [])
        case ("", "resourcequotas"): (["quota"], [])
        case ("apps", "statefulsets"): (["sts"], ["all"])
        case ("apps", "deployments"): (["deploy"], ["all"])
        case ("apps", "replicasets"): (["rs"], ["all"])
        case ("apps", "daemonsets"): (["ds"], ["all"])
        case ("batch", "jobs"): ([], ["all"])
        case ("batch", "cronjobs"): (["cj"], ["all"])
        case ("autoscaling", "horizontalpodautoscalers"): (["hpa"], ["all"])
        case ("policy", "poddisruptionbudgets"): (["pdb"], [])
        case ("apiextensions.k8s.io", "customresourcedefinitions"): (["crd", "crds"], ["api-extensions"])
        case ("networking.k8s.io", "ingresses"): (["ing"], [])
        case ("networking.k8s.io", "networkpolicies"): (["netpol"], [])
        case ("storage.k8s.io", "storageclasses"): (["sc"], [])
        case ("scheduling.k8s.io", "priorityclasses"): (["pc"], [])
        case ("events.k8s.io", "events"): (["ev"], [])
        default: ([], [])
        }
    }
}

extension KubeSimServer {
    /// The reference Kubernetes OpenAPI v2 document KubeSim serves, for programs that generate from it (the
    /// playground makes the CRDs with it, so it needs no checkout).
    public static func referenceOpenAPIDocument() throws -> JSONValue {
        try JSONValue.parse(Swagger.shared.data)
    }
}
