import KubeKit

/// kube-apiserver's rules for claims: at least one known access mode, a positive storage request, a known volume
/// mode; on update the storage request may grow (the volume is expanded) but never drop below the capacity the claim
/// already has.
enum PersistentVolumeClaimValidation {
    static func claim(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        let modes = (spec?["accessModes"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
        if modes.isEmpty { errors.required("spec.accessModes", "at least 1 access mode is required") }
        for mode in modes {
            Enumerations.check(mode, "core.v1.PersistentVolumeClaimSpec", "accessModes", at: "spec.accessModes", into: &errors)
        }
        if let storage = spec?["resources"]?["requests"]?["storage"] {
            if let quantity = quantity(storage), quantity <= Quantity(0) {
                errors.invalid("spec.resources[storage]", quantity.canonical, "must be greater than zero")
            }
        } else {
            errors.required("spec.resources[storage]")
        }
        Enumerations.check(spec?["volumeMode"]?.stringValue, "core.v1.PersistentVolumeClaimSpec", "volumeMode", at: "spec.volumeMode", into: &errors)
        return errors
    }

    static func checkUpdate(_ new: JSONValue, old: JSONValue, resource: APIResource) throws(APIError) {
        guard resource.group.isEmpty, resource.plural == "persistentvolumeclaims",
            let requested = new["spec"]?["resources"]?["requests"]?["storage"].flatMap(quantity),
            let capacity = old["status"]?["capacity"]?["storage"].flatMap(quantity),
            requested < capacity
        else { return }
        throw APIError.invalid(
            resource, name: new.metadataName ?? "",
            causes: [
                ("spec.resources.requests.storage", "FieldValueForbidden", "Forbidden: field can not be less than status.capacity")
            ])
    }

    static func quantity(_ value: JSONValue) -> Quantity? {
        switch value {
        case .string(let text): try? Quantity(text)
        case .int(let number): Quantity(number)
        default: nil
        }
    }
}
