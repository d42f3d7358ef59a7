import Foundation
import KubeKit

/// kube-apiserver's `ValidatePodSpec`, for the parts the operator, kubectl and the tests write: volumes and the
/// mounts that name them, containers (names, images, ports, environment, resources, probes), restart and DNS policy.
enum PodSpecValidation {
    /// `claimVolumes`: the names a StatefulSet's `volumeClaimTemplates` give each pod, which mounts may name too.
    static func podSpec(_ spec: JSONValue?, at path: String, claimVolumes: [String] = []) -> FieldErrors {
        var errors = FieldErrors()
        let volumes = self.volumes(spec?["volumes"]?.arrayValue ?? [], at: "\(path).volumes", errors: &errors)
        let known = Set(volumes + claimVolumes)
        let containers = spec?["containers"]?.arrayValue ?? []
        if containers.isEmpty { errors.required("\(path).containers") }
        var names = Set<String>()
        for (list, items) in [("containers", containers), ("initContainers", spec?["initContainers"]?.arrayValue ?? [])] {
            for (index, container) in items.enumerated() {
                errors.append(contentsOf: self.container(container, at: "\(path).\(list)[\(index)]", volumes: known, names: &names))
            }
        }
        Enumerations.check(
            spec?["restartPolicy"]?.stringValue, "core.v1.PodSpec", "restartPolicy", at: "\(path).restartPolicy", printed: .asListed, into: &errors)
        Enumerations.check(spec?["dnsPolicy"]?.stringValue, "core.v1.PodSpec", "dnsPolicy", at: "\(path).dnsPolicy", printed: .asListed, into: &errors)
        if let account = spec?["serviceAccountName"]?.stringValue, !account.isEmpty {
            errors.invalid("\(path).serviceAccountName", account, each: ValueFormats.dns1123Subdomain(account))
        }
        return errors
    }

    /// The names of the volumes that passed; a mount naming one that did not is `Not found`, as on the real server.
    private static func volumes(_ volumes: [JSONValue], at path: String, errors: inout FieldErrors) -> [String] {
        var names: [String] = []
        for (index, volume) in volumes.enumerated() {
            let here = "\(path)[\(index)]"
            var found = FieldErrors()
            let sources = (volume.objectValue ?? [:]).keys.filter { $0 != "name" }
            if sources.isEmpty { found.required(here, "must specify a volume type") }
            for (source, field) in [("secret", "secretName"), ("configMap", "name"), ("persistentVolumeClaim", "claimName")] {
                if let body = volume[source], (body[field]?.stringValue ?? "").isEmpty { found.required("\(here).\(source).\(field)") }
            }
            let name = volume["name"]?.stringValue ?? ""
            if name.isEmpty {
                found.required("\(here).name")
            } else {
                found.invalid("\(here).name", name, each: ValueFormats.dns1123Label(name))
            }
            if names.contains(name) { found.duplicate("\(here).name", name) }
            if found.isEmpty { names.append(name) }
            errors.append(contentsOf: found)
        }
        return names
    }

    private static func container(_ container: JSONValue, at path: String, volumes: Set<String>, names: inout Set<String>) -> FieldErrors {
        var errors = FieldErrors()
        let name = container["name"]?.stringValue ?? ""
        if name.isEmpty {
            errors.required("\(path).name")
        } else {
            errors.invalid("\(path).name", name, each: ValueFormats.dns1123Label(name))
            if names.contains(name) { errors.duplicate("\(path).name", name) }
            names.insert(name)
        }
        let image = container["image"]?.stringValue ?? ""
        if image.trimmingCharacters(in: .whitespaces).isEmpty { errors.required("\(path).image") }
        errors.append(contentsOf: ports(container["ports"]?.arrayValue ?? [], at: "\(path).ports"))
        errors.append(contentsOf: environment(container["env"]?.arrayValue ?? [], at: "\(path).env"))
        errors.append(contentsOf: mounts(container["volumeMounts"]?.arrayValue ?? [], at: "\(path).volumeMounts", volumes: volumes))
        Enumerations.check(container["imagePullPolicy"]?.stringValue, "core.v1.Container", "imagePullPolicy", at: "\(path).imagePullPolicy", into: &errors)
        errors.append(contentsOf: resources(container["resources"], at: "\(path).resources"))
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard let handler = container[probe] else { continue }
            if let port = handler["httpGet"]?["port"] { errors.append(contentsOf: portNumberOrName(port, at: "\(path).\(probe).httpGet.port")) }
            Enumerations.check(
                handler["httpGet"]?["scheme"]?.stringValue, "core.v1.HTTPGetAction", "scheme", at: "\(path).\(probe).httpGet.scheme", into: &errors)
            if let port = handler["tcpSocket"]?["port"] { errors.append(contentsOf: portNumberOrName(port, at: "\(path).\(probe).tcpSocket.port")) }
        }
        return errors
    }

    private static func ports(_ ports: [JSONValue], at path: String) -> FieldErrors {
        var errors = FieldErrors()
        var names = Set<String>()
        for (index, port) in ports.enumerated() {
            let here = "\(path)[\(index)]"
            if let name = port["name"]?.stringValue, !name.isEmpty {
                let problems = ValueFormats.portName(name)
                if !problems.isEmpty {
                    errors.invalid("\(here).name", name, each: problems)
                } else if names.contains(name) {
                    errors.duplicate("\(here).name", name)
                } else {
                    names.insert(name)
                }
            }
            let number = port["containerPort"]?.intValue ?? 0
            if number == 0 {
                errors.required("\(here).containerPort")
            } else {
                for message in ValueFormats.portNumber(number) { errors.invalid("\(here).containerPort", number, message) }
            }
            if let host = port["hostPort"]?.intValue, host != 0 {
                for message in ValueFormats.portNumber(host) { errors.invalid("\(here).hostPort", host, message) }
            }
            Enumerations.check(port["protocol"]?.stringValue, "core.v1.ContainerPort", "protocol", at: "\(here).protocol", into: &errors)
        }
        return errors
    }

    /// `ValidatePortNumOrName`: a number in 1-65535 or an IANA service name.
    static func portNumberOrName(_ port: JSONValue, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        if let number = port.intValue {
            for message in ValueFormats.portNumber(number) { errors.invalid(path, number, message) }
        } else if let name = port.stringValue {
            errors.invalid(path, name, each: ValueFormats.portName(name))
        }
        return errors
    }

    private static func environment(_ variables: [JSONValue], at path: String) -> FieldErrors {
        var errors = FieldErrors()
        for (index, variable) in variables.enumerated() {
            let here = "\(path)[\(index)]"
            let name = variable["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.required("\(here).name")
            } else {
                errors.invalid("\(here).name", name, each: ValueFormats.environmentVariableName(name))
            }
            if let source = variable["valueFrom"] {
                errors.append(contentsOf: valueFrom(source, value: variable["value"]?.stringValue ?? "", at: "\(here).valueFrom"))
            }
        }
        return errors
    }

    /// Exactly one source, and no `value` beside it.
    private static func valueFrom(_ source: JSONValue, value: String, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        let kinds = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter { source[$0] != nil }
        if source["fieldRef"] != nil, (source["fieldRef"]?["fieldPath"]?.stringValue ?? "").isEmpty {
            errors.required("\(path).fieldRef.fieldPath")
        }
        if source["resourceFieldRef"] != nil, (source["resourceFieldRef"]?["resource"]?.stringValue ?? "").isEmpty {
            errors.required("\(path).resourceFieldRef.resource")
        }
        for selector in ["configMapKeyRef", "secretKeyRef"] {
            guard let reference = source[selector] else { continue }
            if (reference["name"]?.stringValue ?? "").isEmpty { errors.required("\(path).\(selector).name") }
            let key = reference["key"]?.stringValue ?? ""
            if key.isEmpty {
                errors.required("\(path).\(selector).key")
            } else {
                errors.invalid("\(path).\(selector).key", key, each: ValueFormats.configMapKey(key))
            }
        }
        if kinds.isEmpty {
            errors.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")
        } else if !value.isEmpty {
            errors.invalid(path, "", "may not be specified when `value` is not empty")
        } else if kinds.count > 1 {
            errors.invalid(path, "", "may not have more than one field specified at a time")
        }
        return errors
    }

    private static func mounts(_ mounts: [JSONValue], at path: String, volumes: Set<String>) -> FieldErrors {
        var errors = FieldErrors()
        var mountPaths = Set<String>()
        for (index, mount) in mounts.enumerated() {
            let here = "\(path)[\(index)]"
            let name = mount["name"]?.stringValue ?? ""
            if name.isEmpty { errors.required("\(here).name") }
            if !volumes.contains(name) { errors.notFound("\(here).name", name) }
            let mountPath = mount["mountPath"]?.stringValue ?? ""
            if mountPath.isEmpty { errors.required("\(here).mountPath") }
            if mountPaths.contains(mountPath) { errors.invalid("\(here).mountPath", mountPath, "must be unique") }
            mountPaths.insert(mountPath)
        }
        return errors
    }

    /// Quantities may not be negative, and a request may not exceed its limit.
    private static func resources(_ resources: JSONValue?, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        let limits = quantities(resources?["limits"])
        let requests = quantities(resources?["requests"])
        for (section, values) in [("limits", limits), ("requests", requests)] {
            for (name, quantity) in values.sorted(by: { $0.key < $1.key }) where quantity < Quantity(0) {
                errors.invalid("\(path).\(section)[\(name)]", quantity.canonical, "must be greater than or equal to 0")
            }
        }
        for (name, request) in requests.sorted(by: { $0.key < $1.key }) {
            guard let limit = limits[name], limit > Quantity(0), request > limit else { continue }
            errors.invalid(
                "\(path).requests[\(name)]", request.canonical, "must be less than or equal to \(name) limit of \(limit.canonical)")
        }
        return errors
    }

    private static func quantities(_ map: JSONValue?) -> [String: Quantity] {
        (map?.objectValue ?? [:]).compactMapValues(PersistentVolumeClaimValidation.quantity)
    }
}
