import KubeKit

/// kube-apiserver's `ValidatePodDisruptionBudgetSpec`: one of `minAvailable` and `maxUnavailable`, each a count or a
/// percentage of at most 100%, a selector of valid labels, and a known unhealthy-pod eviction policy.
enum PodDisruptionBudgetValidation {
    static func podDisruptionBudget(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        if let minimum = spec?["minAvailable"], let maximum = spec?["maxUnavailable"] {
            let rendered =
                "policy.PodDisruptionBudgetSpec{MinAvailable:\(IntOrPercent.goSyntax(minimum)), MaxUnavailable:\(IntOrPercent.goSyntax(maximum))}"
            errors.invalid("spec", rendered: rendered, "minAvailable and maxUnavailable cannot be both set")
        }
        for field in ["minAvailable", "maxUnavailable"] {
            guard let value = spec?[field] else { continue }
            errors.append(contentsOf: IntOrPercent.nonNegative(value, at: "spec.\(field)"))
            errors.append(contentsOf: IntOrPercent.notMoreThan100Percent(value, at: "spec.\(field)"))
        }
        errors.append(contentsOf: MetadataValidation.labelSelector(spec?["selector"], at: "spec.selector"))
        Enumerations.check(
            spec?["unhealthyPodEvictionPolicy"]?.stringValue, "policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy",
            at: "spec.unhealthyPodEvictionPolicy", into: &errors)
        return errors
    }
}
