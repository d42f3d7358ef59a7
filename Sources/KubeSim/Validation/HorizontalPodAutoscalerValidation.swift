import KubeKit

/// kube-apiserver's `validateHorizontalPodAutoscalerSpec` (autoscaling/v2): replica bounds, the scale target, and
/// metrics of a known source type with a known target type.
enum HorizontalPodAutoscalerValidation {
    static func horizontalPodAutoscaler(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        let minimum = spec?["minReplicas"]?.intValue
        let maximum = spec?["maxReplicas"]?.intValue ?? 0
        if let minimum, minimum < 1 { errors.invalid("spec.minReplicas", minimum, "must be greater than or equal to 1") }
        if maximum < 1 { errors.invalid("spec.maxReplicas", maximum, "must be greater than 0") }
        if let minimum, maximum < minimum { errors.invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`") }
        var target = FieldErrors()
        for field in ["kind", "name"] {
            let value = spec?["scaleTargetRef"]?[field]?.stringValue ?? ""
            if value.isEmpty { target.required("spec.scaleTargetRef.\(field)") }
        }
        // As on the real server, metrics are judged only once the target is valid.
        guard target.isEmpty else {
            errors.append(contentsOf: target)
            return errors
        }
        for (index, metric) in (spec?["metrics"]?.arrayValue ?? []).enumerated() {
            errors.append(contentsOf: self.metric(metric, at: "spec.metrics[\(index)]"))
        }
        return errors
    }

    private static func metric(_ metric: JSONValue, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        let type = metric["type"]?.stringValue ?? ""
        if type.isEmpty { errors.required("\(path).type", "must specify a metric source type") }
        Enumerations.check(type, "autoscaling.v2.MetricSpec", "type", at: "\(path).type", into: &errors)
        // Each source type has its own field: `Resource` is `resource`, `ContainerResource` is `containerResource`.
        let field = type.prefix(1).lowercased() + type.dropFirst()
        guard !type.isEmpty, errors.isEmpty else { return errors }
        guard let source = metric[field] else {
            errors.required("\(path).\(field)", "must populate information for the given metric source")
            return errors
        }
        guard let target = source["target"] else { return errors }
        let targetTypes = Enumerations.values("autoscaling.v2.MetricTarget", "type")
        let targetType = target["type"]?.stringValue ?? ""
        if targetType.isEmpty { errors.required("\(path).\(field).target.type", "must specify a metric target type") }
        if !targetTypes.isEmpty, !targetTypes.contains(targetType) {
            errors.invalid(
                "\(path).\(field).target.type", targetType,
                "must be either " + targetTypes.dropLast().joined(separator: ", ") + ", or " + (targetTypes.last ?? ""))
        }
        if let utilization = target["averageUtilization"]?.intValue, utilization <= 0 {
            errors.invalid("\(path).\(field).target.averageUtilization", utilization, "must be greater than 0")
        }
        return errors
    }
}
