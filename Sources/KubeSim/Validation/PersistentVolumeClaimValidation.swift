import KubeKit

/// kube-apiserver's update rule for claims: the storage request may grow (the volume is expanded) but never drop
/// below the capacity the claim already has.
enum PersistentVolumeClaimValidation {
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
