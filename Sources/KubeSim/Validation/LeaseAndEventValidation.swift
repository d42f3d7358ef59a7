import KubeKit

/// The checks of the two kinds controllers write most often: coordination Leases (leader election) and core/v1
/// Events (`legacyValidateEvent`).
enum LeaseAndEventValidation {
    static func lease(_ object: JSONValue) -> FieldErrors {
        var errors = FieldErrors()
        if let duration = object["spec"]?["leaseDurationSeconds"]?.intValue, duration <= 0 {
            errors.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        }
        if let transitions = object["spec"]?["leaseTransitions"]?.intValue, transitions < 0 {
            errors.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
        }
        return errors
    }

    /// An Event without `eventTime` lives in its object's namespace; one about a cluster-scoped object lives in
    /// `default` (or no namespace).
    static func event(_ object: JSONValue) -> FieldErrors {
        var errors = FieldErrors()
        guard object["eventTime"] == nil || object["eventTime"] == .null else { return errors }
        let namespace = object.metadataNamespace ?? ""
        let involved = object["involvedObject"]?["namespace"]?.stringValue ?? ""
        let matches = involved.isEmpty ? (namespace.isEmpty || namespace == "default") : namespace == involved
        if !matches { errors.invalid("involvedObject.namespace", involved, "does not match event.namespace") }
        return errors
    }
}
