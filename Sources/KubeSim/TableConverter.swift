import Foundation
import KubeKit

/// `meta.k8s.io/v1 Table` responses for clients that ask for them (`kubectl get` sends `Accept: ...;as=Table`):
/// Name and Age for every kind, the columns kubectl users know for the common built-in kinds, and a CRD's
/// `additionalPrinterColumns`.
struct TableConverter: Sendable {
    struct Column: Sendable {
        var name: String
        var type: String
        var format: String
        var description: String
        var priority: Int64
        var cell: @Sendable (JSONValue) -> JSONValue
    }

    let columns: [Column]

    static func wantsTable(accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    init(resource: APIResource, now: Date = .now) {
        let name = Column(
            name: "Name", type: "string", format: "name",
            description: "Name must be unique within a namespace.", priority: 0
        ) { $0.metadataName.map(JSONValue.string) ?? "" }
        let age = Column(
            name: "Age", type: "string", format: "",
            description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0
        ) {
            .string(Self.age(of: $0["metadata"]?["creationTimestamp"]?.stringValue, now: now))
        }
        if let printerColumns = resource.printerColumns?.arrayValue, !printerColumns.isEmpty {
            columns =
                [name]
                + printerColumns.map { definition in
                    let type = definition["type"]?.stringValue ?? "string"
                    let path = definition["jsonPath"]?.stringValue ?? ""
                    return Column(
                        name: definition["name"]?.stringValue ?? path, type: type == "date" ? "date" : type,
                        format: definition["format"]?.stringValue ?? "", description: definition["description"]?.stringValue ?? "",
                        priority: definition["priority"]?.intValue ?? 0
                    ) { object in
                        guard let value = SimpleJSONPath.evaluate(path, in: object) else { return .null }
                        if type == "date", let text = value.stringValue { return .string(Self.age(of: text, now: now)) }
                        return value
                    }
                }
            return
        }
        switch (resource.group, resource.plural) {
        case ("", "namespaces"):
            columns = [
                name,
                Column(name: "Status", type: "string", format: "", description: "The phase of the namespace.", priority: 0) {
                    $0["status"]?["phase"] ?? ""
                }, age,
            ]
        case ("", "configmaps"), ("", "secrets"):
            var list = [name]
            if resource.plural == "secrets" {
                list.append(Column(name: "Type", type: "string", format: "", description: "The type of the secret.", priority: 0) { $0["type"] ?? "Opaque" })
            }
            list.append(
                Column(name: "Data", type: "integer", format: "", description: "The number of entries.", priority: 0) {
                    .int(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0)))
                })
            columns = list + [age]
        case ("", "pods"):
            columns = [
                name,
                Column(name: "Ready", type: "string", format: "", description: "Ready containers.", priority: 0) { pod in
                    let total = pod["spec"]?["containers"]?.arrayValue?.count ?? 0
                    let ready = pod["status"]?["containerStatuses"]?.arrayValue?.filter { $0["ready"] == true }.count ?? 0
                    return .string("\(ready)/\(total)")
                },
                Column(name: "Status", type: "string", format: "", description: "The pod's phase.", priority: 0) { $0["status"]?["phase"] ?? "" },
                Column(name: "Restarts", type: "string", format: "", description: "Container restarts.", priority: 0) { pod in
                    .string(String(pod["status"]?["containerStatuses"]?.arrayValue?.compactMap { $0["restartCount"]?.intValue }.reduce(0, +) ?? 0))
                },
                age,
                Column(name: "IP", type: "string", format: "", description: "The pod's IP address.", priority: 1) { $0["status"]?["podIP"] ?? "<none>" },
                Column(name: "Node", type: "string", format: "", description: "The node the pod runs on.", priority: 1) { $0["spec"]?["nodeName"] ?? "<none>" },
            ]
        case ("", "services"):
            columns = [
                name,
                Column(name: "Type", type: "string", format: "", description: "The type of the service.", priority: 0) { $0["spec"]?["type"] ?? "ClusterIP" },
                Column(name: "Cluster-IP", type: "string", format: "", description: "The cluster IP.", priority: 0) { $0["spec"]?["clusterIP"] ?? "<none>" },
                Column(name: "External-IP", type: "string", format: "", description: "Load balancer ingress.", priority: 0) { service in
                    let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
                    let addresses = ingress.compactMap { $0["hostname"]?.stringValue ?? $0["ip"]?.stringValue }
                    if !addresses.isEmpty { return .string(addresses.joined(separator: ",")) }
                    return service["spec"]?["type"] == "LoadBalancer" ? "<pending>" : "<none>"
                },
                Column(name: "Port(s)", type: "string", format: "", description: "The service ports.", priority: 0) { service in
                    let ports = (service["spec"]?["ports"]?.arrayValue ?? []).map { port in
                        let number = port["port"]?.intValue.map(String.init) ?? ""
                        let node = port["nodePort"]?.intValue.map { ":\($0)" } ?? ""
                        return "\(number)\(node)/\(port["protocol"]?.stringValue ?? "TCP")"
                    }
                    return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                },
                age,
            ]
        case ("", "nodes"):
            columns = [
                name,
                Column(name: "Status", type: "string", format: "", description: "The node's Ready condition.", priority: 0) { node in
                    let ready = node["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
                    return ready?["status"] == "True" ? "Ready" : "NotReady"
                },
                age,
            ]
        case ("", "persistentvolumeclaims"):
            columns = [
                name,
                Column(name: "Status", type: "string", format: "", description: "The claim's phase.", priority: 0) { $0["status"]?["phase"] ?? "Pending" },
                Column(name: "Capacity", type: "string", format: "", description: "The bound capacity.", priority: 0) {
                    $0["status"]?["capacity"]?["storage"] ?? ""
                },
                age,
            ]
        case ("", "endpoints"):
            columns = [
                name,
                Column(name: "Endpoints", type: "string", format: "", description: "Ready addresses and ports.", priority: 0) { endpoints in
                    let pairs = (endpoints["subsets"]?.arrayValue ?? []).flatMap { subset in
                        (subset["addresses"]?.arrayValue ?? []).flatMap { address in
                            (subset["ports"]?.arrayValue ?? [[:]]).map { port in
                                "\(address["ip"]?.stringValue ?? ""):\(port["port"]?.intValue.map(String.init) ?? "")"
                            }
                        }
                    }
                    return .string(pairs.isEmpty ? "<none>" : pairs.joined(separator: ","))
                },
                age,
            ]
        case ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"):
            columns = [
                name,
                Column(name: "Ready", type: "string", format: "", description: "Ready replicas.", priority: 0) {
                    .string("\($0["status"]?["readyReplicas"]?.intValue ?? 0)/\($0["spec"]?["replicas"]?.intValue ?? 1)")
                },
                age,
            ]
        default:
            columns = [name, age]
        }
    }

    func table(for objects: [JSONValue], resourceVersion: String?, includeColumns: Bool = true) -> JSONValue {
        let definitions: [JSONValue] = columns.map { column in
            [
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .int(column.priority),
            ]
        }
        let rows: [JSONValue] = objects.map { object in
            [
                "cells": .array(columns.map { $0.cell(object) }),
                "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? .object([:])],
            ]
        }
        var metadata: [String: JSONValue] = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": .array(includeColumns ? definitions : []), "rows": .array(rows),
        ]
    }

    /// apimachinery's `duration.HumanDuration`.
    static func age(of timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = try? Date(timestamp, strategy: .iso8601) else { return "<unknown>" }
        let seconds = Int(now.timeIntervalSince(date).rounded(.down))
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        let days = hours / 24
        if hours < 192 { return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h" }
        if days < 730 { return "\(days)d" }
        let years = days / 365
        if years < 8 { return days % 365 == 0 ? "\(years)y" : "\(years)y\(days % 365)d" }
        return "\(years)y"
    }
}

/// The JSONPath subset printer columns use: `.a.b`, `[0]`, and `[?(@.type=="Ready")]`.
enum SimpleJSONPath {
    static func evaluate(_ path: String, in object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        var rest = Substring(path.hasPrefix("{") && path.hasSuffix("}") ? String(path.dropFirst().dropLast()) : path)
        while !rest.isEmpty, let value = current {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let field = String(rest[..<end])
                rest = rest[end...]
                if !field.isEmpty { current = value[field] }
            } else if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                let items = value.arrayValue ?? []
                if let index = Int(inside) {
                    current = items.indices.contains(index) ? items[index] : nil
                } else if inside.hasPrefix("?(@."), inside.hasSuffix(")"), let equals = inside.range(of: "==") {
                    let field = String(inside[inside.index(inside.startIndex, offsetBy: 4)..<equals.lowerBound])
                    let wanted = inside[equals.upperBound..<inside.index(before: inside.endIndex)]
                        .trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
                    current = items.first { item in
                        switch item[field] {
                        case .string(let text)?: text == wanted
                        case .int(let number)?: String(number) == wanted
                        case .bool(let flag)?: String(flag) == wanted
                        default: false
                        }
                    }
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }
        return current
    }
}
