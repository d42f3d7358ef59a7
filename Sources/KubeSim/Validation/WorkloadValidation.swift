import KubeKit

/// kube-apiserver's checks of apps/v1 and batch/v1 workloads beyond their pod templates: counts, policies and
/// strategies, and the restart policy each controller allows its pods.
enum WorkloadValidation {
    static func statefulSet(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        errors.append(contentsOf: counts(spec, ["replicas", "minReadySeconds", "revisionHistoryLimit"]))
        if let policy = spec?["podManagementPolicy"]?.stringValue {
            let supported = Enumerations.values("apps.v1.StatefulSetSpec", "podManagementPolicy")
            if !supported.isEmpty, !supported.contains(policy) {
                errors.invalid("spec.podManagementPolicy", policy, "must be " + supported.map { "'\($0)'" }.joined(separator: " or "))
            }
        }
        if let strategy = spec?["updateStrategy"], let type = strategy["type"]?.stringValue {
            let supported = Enumerations.values("apps.v1.StatefulSetUpdateStrategy", "type")
            if !supported.contains(type) {
                let rendered =
                    "apps.StatefulSetUpdateStrategy{Type:\(GoSyntax.quoted(type)), RollingUpdate:\(pointer(strategy["rollingUpdate"], "apps.RollingUpdateStatefulSetStrategy"))}"
                errors.invalid("spec.updateStrategy", rendered: rendered, "must be " + supported.map { "'\($0)'" }.joined(separator: " or "))
            }
        }
        let retention = spec?["persistentVolumeClaimRetentionPolicy"]
        for field in ["whenDeleted", "whenScaled"] {
            Enumerations.check(
                retention?[field]?.stringValue, "apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", field,
                at: "spec.persistentVolumeClaimRetentionPolicy.\(field)", printed: .asListed, into: &errors)
        }
        errors.append(contentsOf: MetadataValidation.labelSelector(spec?["selector"], at: "spec.selector"))
        let claims = (spec?["volumeClaimTemplates"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
        errors.append(contentsOf: template(spec?["template"], at: "spec.template", restartPolicies: ["Always"], claimVolumes: claims))
        return errors
    }

    static func deployment(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        errors.append(contentsOf: counts(spec, ["replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"]))
        errors.append(contentsOf: MetadataValidation.labelSelector(spec?["selector"], at: "spec.selector"))
        errors.append(contentsOf: template(spec?["template"], at: "spec.template", restartPolicies: ["Always"]))
        errors.append(contentsOf: strategy(spec?["strategy"]))
        return errors
    }

    /// ReplicaSets and DaemonSets: what they share with Deployments.
    static func replicated(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        errors.append(contentsOf: counts(spec, ["replicas", "minReadySeconds", "revisionHistoryLimit"]))
        errors.append(contentsOf: MetadataValidation.labelSelector(spec?["selector"], at: "spec.selector"))
        errors.append(contentsOf: template(spec?["template"], at: "spec.template", restartPolicies: ["Always"]))
        return errors
    }

    static func job(_ object: JSONValue) -> FieldErrors {
        let spec = object["spec"]
        var errors = FieldErrors()
        errors.append(contentsOf: counts(spec, ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"]))
        Enumerations.check(
            spec?["completionMode"]?.stringValue, "batch.v1.JobSpec", "completionMode", at: "spec.completionMode", printed: .asListed, into: &errors)
        let restartPolicies = Enumerations.values("core.v1.PodSpec", "restartPolicy").filter { $0 != "Always" }
        errors.append(contentsOf: template(spec?["template"], at: "spec.template", restartPolicies: restartPolicies, restartPolicyRequired: true))
        return errors
    }

    /// A pod template: labels and annotations (reported at `<path>.labels`, as `ValidatePodTemplateSpec` does), the
    /// pod spec, and the restart policies the owning controller allows (`Always` when absent, as defaulting makes it).
    static func template(
        _ template: JSONValue?, at path: String, restartPolicies: [String], restartPolicyRequired: Bool = false, claimVolumes: [String] = []
    ) -> FieldErrors {
        var errors = MetadataValidation.labelsAndAnnotations(template?["metadata"], labelsAt: "\(path).labels", annotationsAt: "\(path).annotations")
        errors.append(contentsOf: PodSpecValidation.podSpec(template?["spec"], at: "\(path).spec", claimVolumes: claimVolumes))
        let policy = template?["spec"]?["restartPolicy"]?.stringValue ?? (restartPolicyRequired ? "" : "Always")
        if !restartPolicies.contains(policy) {
            errors.notSupported("\(path).spec.restartPolicy", policy, restartPolicies)
        }
        return errors
    }

    /// `ValidateNonnegativeField` of each count that is set.
    static func counts(_ spec: JSONValue?, _ fields: [String], at path: String = "spec") -> FieldErrors {
        var errors = FieldErrors()
        for field in fields {
            if let value = spec?[field]?.intValue, value < 0 { errors.invalid("\(path).\(field)", value, "must be greater than or equal to 0") }
        }
        return errors
    }

    private static func strategy(_ strategy: JSONValue?) -> FieldErrors {
        var errors = FieldErrors()
        guard let strategy, let type = strategy["type"]?.stringValue else { return errors }
        let rolling = strategy["rollingUpdate"]
        switch type {
        case "Recreate":
            if rolling != nil { errors.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'") }
        case "RollingUpdate":
            let here = "spec.strategy.rollingUpdate"
            let unavailable = rolling?["maxUnavailable"] ?? .int(0)
            let surge = rolling?["maxSurge"] ?? .int(0)
            errors.append(contentsOf: IntOrPercent.nonNegative(unavailable, at: "\(here).maxUnavailable"))
            errors.append(contentsOf: IntOrPercent.nonNegative(surge, at: "\(here).maxSurge"))
            if IntOrPercent.magnitude(unavailable) == 0, IntOrPercent.magnitude(surge) == 0 {
                errors.invalid("\(here).maxUnavailable", rendered: IntOrPercent.goSyntax(unavailable), "may not be 0 when `maxSurge` is 0")
            }
            errors.append(contentsOf: IntOrPercent.notMoreThan100Percent(unavailable, at: "\(here).maxUnavailable"))
        default:
            let rendered = "apps.DeploymentStrategy{Type:\(GoSyntax.quoted(type)), RollingUpdate:\(pointer(rolling, "apps.RollingUpdateDeployment"))}"
            errors.notSupported("spec.strategy", rendered: rendered, Enumerations.values("apps.v1.DeploymentStrategy", "type"))
        }
        return errors
    }

    /// `%#v` of a pointer field: `(*T)(nil)` when absent; Go prints an address otherwise, which no client can rely on.
    private static func pointer(_ value: JSONValue?, _ type: String) -> String {
        value == nil ? "(*\(type))(nil)" : "(*\(type))(0xc000000000)"
    }
}
