import KubeKit

/// The fields of built-in kinds that an update may not change, with kube-apiserver's `ValidateUpdate` wording.
enum ImmutableFields {
    typealias Cause = (field: String, reason: String, message: String)

    static let fieldIsImmutable = "field is immutable"
    static let immutableWhenSet = "field is immutable when `immutable` is set"

    static func causes(old: JSONValue, new: JSONValue, resource: APIResource) -> [Cause] {
        switch (resource.group, resource.plural) {
        case ("apps", "statefulsets"): statefulSet(old: old, new: new)
        case ("apps", "deployments"), ("apps", "replicasets"), ("apps", "daemonsets"): selector(old: old, new: new)
        case ("", "services"): service(old: old, new: new)
        case ("", "persistentvolumeclaims"): persistentVolumeClaim(old: old, new: new)
        case ("", "configmaps"): immutableData(old: old, new: new, fields: ["data", "binaryData"])
        case ("", "secrets"): secretType(old: old, new: new) + immutableData(old: old, new: new, fields: ["data"])
        default: []
        }
    }

    /// Only these parts of a StatefulSet's spec may change; everything else (selector, serviceName,
    /// volumeClaimTemplates, podManagementPolicy) is fixed at creation.
    private static let mutableStatefulSetSpec = [
        "replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    ]

    private static func statefulSet(old: JSONValue, new: JSONValue) -> [Cause] {
        guard fixedPart(of: new["spec"], except: mutableStatefulSetSpec) != fixedPart(of: old["spec"], except: mutableStatefulSetSpec) else {
            return []
        }
        let message =
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        return [("spec", "FieldValueForbidden", message)]
    }

    private static func selector(old: JSONValue, new: JSONValue) -> [Cause] {
        guard new["spec"]?["selector"] != old["spec"]?["selector"] else { return [] }
        return [("spec.selector", "FieldValueInvalid", "Invalid value: \(GoSyntax.labelSelector(new["spec"]?["selector"])): \(fieldIsImmutable)")]
    }

    private static func service(old: JSONValue, new: JSONValue) -> [Cause] {
        func usesClusterIP(_ service: JSONValue) -> Bool { service["spec"]?["type"]?.stringValue != "ExternalName" }
        guard usesClusterIP(old), usesClusterIP(new) else { return [] }
        var causes: [Cause] = []
        let oldIP = old["spec"]?["clusterIP"]?.stringValue ?? ""
        let newIP = new["spec"]?["clusterIP"]?.stringValue ?? ""
        if newIP != oldIP {
            causes.append(("spec.clusterIP", "FieldValueInvalid", "Invalid value: \(GoSyntax.quoted(newIP)): \(fieldIsImmutable)"))
        }
        let oldIPs = (old["spec"]?["clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        var newIPs = (new["spec"]?["clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        // The server rewrites an unchanged clusterIPs to follow a changed clusterIP before it validates.
        if newIPs == oldIPs, newIP != oldIP, !newIPs.isEmpty { newIPs[0] = newIP }
        for index in 0..<min(2, oldIPs.count, newIPs.count) where oldIPs[index] != newIPs[index] {
            causes.append(("spec.clusterIPs[\(index)]", "FieldValueInvalid", "Invalid value: \(GoSyntax.quoted(newIPs[index])): may not change once set"))
        }
        return causes
    }

    /// A claim's spec is fixed once created, except that the volume may be bound once and a bound claim's storage
    /// request and volume attributes class may change (the other checks on resizing are the resize's own).
    private static func persistentVolumeClaim(old: JSONValue, new: JSONValue) -> [Cause] {
        var oldSpec = old["spec"] ?? .object([:])
        var newSpec = new["spec"] ?? .object([:])
        if (oldSpec["volumeName"]?.stringValue ?? "").isEmpty { oldSpec["volumeName"] = newSpec["volumeName"] }
        if new["status"]?["phase"]?.stringValue == "Bound" {
            if newSpec["resources"]?["requests"] != nil {
                newSpec["resources"]?["requests"]?["storage"] = oldSpec["resources"]?["requests"]?["storage"]
            }
            if newSpec["volumeAttributesClassName"] != nil { newSpec["volumeAttributesClassName"] = oldSpec["volumeAttributesClassName"] }
        }
        guard newSpec != oldSpec else { return [] }
        return [
            (
                "spec", "FieldValueForbidden",
                "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
            )
        ]
    }

    private static func immutableData(old: JSONValue, new: JSONValue, fields: [String]) -> [Cause] {
        guard old["immutable"]?.boolValue == true else { return [] }
        var causes: [Cause] = []
        if new["immutable"]?.boolValue != true {
            causes.append(("immutable", "FieldValueForbidden", "Forbidden: \(immutableWhenSet)"))
        }
        for field in fields where nonEmpty(new[field]) != nonEmpty(old[field]) {
            causes.append((field, "FieldValueForbidden", "Forbidden: \(immutableWhenSet)"))
        }
        return causes
    }

    private static func secretType(old: JSONValue, new: JSONValue) -> [Cause] {
        let oldType = old["type"]?.stringValue ?? "Opaque"
        let newType = new["type"]?.stringValue ?? "Opaque"
        guard oldType != newType else { return [] }
        return [("type", "FieldValueInvalid", "Invalid value: \(GoSyntax.quoted(newType)): \(fieldIsImmutable)")]
    }

    private static func fixedPart(of spec: JSONValue?, except mutable: [String]) -> JSONValue {
        var fixed = spec ?? .object([:])
        for field in mutable { fixed[field] = nil }
        return fixed
    }

    /// Go compares maps with DeepEqual after decoding, where an empty map and an absent one differ only in form.
    private static func nonEmpty(_ value: JSONValue?) -> JSONValue? {
        value == .object([:]) ? nil : value
    }
}
