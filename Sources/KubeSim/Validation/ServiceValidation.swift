import KubeKit

/// kube-apiserver's `ValidateService`: type and policies from their enumerations, ports (required unless headless or
/// ExternalName, named when there are several, numbers in range, target ports as numbers or IANA names) and a
/// selector of valid labels.
enum ServiceValidation {
    static func service(_ service: JSONValue) -> FieldErrors {
        var errors = FieldErrors()
        let spec = service["spec"]
        let type = spec?["type"]?.stringValue ?? "ClusterIP"
        let headless = spec?["clusterIP"]?.stringValue == "None"
        let ports = spec?["ports"]?.arrayValue ?? []
        if ports.isEmpty, !headless, type != "ExternalName" { errors.required("spec.ports") }
        var names = Set<String>()
        for (index, port) in ports.enumerated() {
            errors.append(contentsOf: self.port(port, at: "spec.ports[\(index)]", nameRequired: ports.count > 1, names: &names))
        }
        Enumerations.check(type, "core.v1.ServiceSpec", "type", at: "spec.type", into: &errors)
        if type == "ExternalName", (spec?["externalName"]?.stringValue ?? "").isEmpty { errors.required("spec.externalName") }
        Enumerations.check(spec?["sessionAffinity"]?.stringValue, "core.v1.ServiceSpec", "sessionAffinity", at: "spec.sessionAffinity", into: &errors)
        Enumerations.check(spec?["ipFamilyPolicy"]?.stringValue, "core.v1.ServiceSpec", "ipFamilyPolicy", at: "spec.ipFamilyPolicy", into: &errors)
        for (index, family) in (spec?["ipFamilies"]?.arrayValue ?? []).enumerated() {
            Enumerations.check(family.stringValue, "core.v1.ServiceSpec", "ipFamilies", at: "spec.ipFamilies[\(index)]", into: &errors)
        }
        Enumerations.check(
            spec?["internalTrafficPolicy"]?.stringValue, "core.v1.ServiceSpec", "internalTrafficPolicy", at: "spec.internalTrafficPolicy", into: &errors)
        Enumerations.check(
            spec?["externalTrafficPolicy"]?.stringValue, "core.v1.ServiceSpec", "externalTrafficPolicy", at: "spec.externalTrafficPolicy", into: &errors)
        if type != "ExternalName" { errors.append(contentsOf: MetadataValidation.labels(spec?["selector"], at: "spec.selector")) }
        return errors
    }

    private static func port(_ port: JSONValue, at path: String, nameRequired: Bool, names: inout Set<String>) -> FieldErrors {
        var errors = FieldErrors()
        let name = port["name"]?.stringValue ?? ""
        if nameRequired, name.isEmpty {
            errors.required("\(path).name")
        } else if !name.isEmpty {
            errors.invalid("\(path).name", name, each: ValueFormats.dns1123Label(name))
            if names.contains(name) { errors.duplicate("\(path).name", name) }
            names.insert(name)
        }
        let number = port["port"]?.intValue ?? 0
        for message in ValueFormats.portNumber(number) { errors.invalid("\(path).port", number, message) }
        Enumerations.check(port["protocol"]?.stringValue, "core.v1.ServicePort", "protocol", at: "\(path).protocol", into: &errors)
        if let target = port["targetPort"] { errors.append(contentsOf: PodSpecValidation.portNumberOrName(target, at: "\(path).targetPort")) }
        if let nodePort = port["nodePort"]?.intValue, nodePort != 0 {
            for message in ValueFormats.portNumber(nodePort) { errors.invalid("\(path).nodePort", nodePort, message) }
        }
        return errors
    }
}
