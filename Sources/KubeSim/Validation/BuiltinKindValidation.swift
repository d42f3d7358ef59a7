import KubeKit

/// What kube-apiserver's validation checks of a built-in object before it is stored, kind by kind: labels and
/// annotations of every object, then each kind's own rules. Every problem is one cause, with the real server's field
/// path and wording.
enum BuiltinValidation {
    typealias Cause = (field: String, reason: String, message: String)

    static func causes(_ object: JSONValue, resource: APIResource) -> [Cause] {
        var errors = MetadataValidation.labelsAndAnnotations(object["metadata"], labelsAt: "metadata.labels", annotationsAt: "metadata.annotations")
        errors.append(contentsOf: kindRules(object, resource: resource))
        return errors.causes
    }

    private static func kindRules(_ object: JSONValue, resource: APIResource) -> FieldErrors {
        switch (resource.group, resource.plural) {
        case ("", "pods"):
            PodSpecValidation.podSpec(object["spec"], at: "spec")
        case ("", "podtemplates"):
            WorkloadValidation.template(object["template"], at: "template", restartPolicies: Enumerations.values("core.v1.PodSpec", "restartPolicy"))
        case ("", "services"):
            ServiceValidation.service(object)
        case ("", "configmaps"):
            ConfigurationDataValidation.configMap(object)
        case ("", "secrets"):
            ConfigurationDataValidation.secret(object)
        case ("", "persistentvolumeclaims"):
            PersistentVolumeClaimValidation.claim(object)
        case ("", "events"):
            LeaseAndEventValidation.event(object)
        case ("apps", "statefulsets"):
            selector(object["spec"]) + WorkloadValidation.statefulSet(object)
        case ("apps", "deployments"):
            selector(object["spec"]) + WorkloadValidation.deployment(object)
        case ("apps", "replicasets"), ("apps", "daemonsets"):
            selector(object["spec"]) + WorkloadValidation.replicated(object)
        case ("batch", "jobs"):
            WorkloadValidation.job(object)
        case ("policy", "poddisruptionbudgets"):
            PodDisruptionBudgetValidation.podDisruptionBudget(object)
        case ("autoscaling", "horizontalpodautoscalers"):
            HorizontalPodAutoscalerValidation.horizontalPodAutoscaler(object)
        case ("coordination.k8s.io", "leases"):
            LeaseAndEventValidation.lease(object)
        case (RBACValidation.group, "roles"), (RBACValidation.group, "clusterroles"):
            RBACValidation.role(object, namespaced: resource.namespaced)
        case (RBACValidation.group, "rolebindings"), (RBACValidation.group, "clusterrolebindings"):
            RBACValidation.binding(object, namespaced: resource.namespaced)
        default:
            FieldErrors()
        }
    }

    /// A workload needs a selector, and its template's labels must match it.
    private static func selector(_ spec: JSONValue?) -> FieldErrors {
        var errors = FieldErrors()
        guard let selector = spec?["selector"], selector != .object([:]) else {
            errors.required("spec.selector")
            return errors
        }
        let labels = (spec?["template"]?["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        // A selector that does not parse is reported by the selector's own checks; only a clear mismatch is reported here.
        let parsed = (try? selector.decode(as: MetaV1.LabelSelector.self)).flatMap { try? LabelSelector($0) }
        if !(parsed?.matches(labels) ?? true) {
            errors.invalid("spec.template.metadata.labels", rendered: GoSyntax.stringMap(labels), "`selector` does not match template `labels`")
        }
        return errors
    }
}

extension FieldErrors {
    static func + (left: FieldErrors, right: FieldErrors) -> FieldErrors {
        var sum = left
        sum.append(contentsOf: right)
        return sum
    }
}
