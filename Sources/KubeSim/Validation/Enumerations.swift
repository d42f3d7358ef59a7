import Foundation

/// The values enumerated fields accept.
///
/// Most come from `Resources/enumerations.json`, which `kube-model-gen enums` reads out of the reference OpenAPI
/// document's descriptions; `unlisted` holds the few whose description does not list them, as kube-apiserver's
/// validation spells them. Lists keep the reference's order; `Printed` says how a message lists them.
enum Enumerations {
    static let shared: [String: [String]] = {
        guard let url = Bundle.module.url(forResource: "enumerations", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let table = try? JSONDecoder().decode([String: [String]].self, from: data)
        else { return [:] }
        return table.merging(unlisted) { listed, _ in listed }
    }()

    /// Fields whose description names no values (`accessModes` points to a web page; `type` says "the type").
    static let unlisted: [String: [String]] = [
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec.accessModes": ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"],
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec.volumeMode": ["Block", "Filesystem"],
        "io.k8s.api.core.v1.HTTPGetAction.scheme": ["HTTP", "HTTPS"],
        "io.k8s.api.apps.v1.StatefulSetUpdateStrategy.type": ["RollingUpdate", "OnDelete"],
        "io.k8s.api.autoscaling.v2.HPAScalingPolicy.type": ["Percent", "Pods"],
        "io.k8s.api.autoscaling.v2.HPAScalingRules.selectPolicy": ["Disabled", "Max", "Min"],
    ]

    /// The values of `definition.property`, e.g. `values("core.v1.ServiceSpec", "type")`; the definition is
    /// abbreviated below `io.k8s.api.` (`meta.v1.…` stands for apimachinery's).
    static func values(_ definition: String, _ property: String) -> [String] {
        let prefix = definition.hasPrefix("meta.") ? "io.k8s.apimachinery.pkg.apis." : "io.k8s.api."
        return shared["\(prefix)\(definition).\(property)"] ?? []
    }

    /// How kube-apiserver lists the supported values of a field in its message.
    enum Printed {
        /// `sets.List`: sorted, as most checks print them.
        case sorted
        /// The order of a Go slice literal that matches the reference's (`restartPolicy`, `dnsPolicy`).
        case asListed
    }

    /// Reports `value` at `path` unless it is one of the field's values (or the table is missing, as in a build without
    /// the resource: then nothing is rejected).
    static func check(
        _ value: String?, _ definition: String, _ property: String, at path: String, printed: Printed = .sorted,
        into errors: inout FieldErrors
    ) {
        guard let value else { return }
        let supported = values(definition, property)
        if !supported.isEmpty, !supported.contains(value) {
            errors.notSupported(path, value, printed == .sorted ? supported.sorted() : supported)
        }
    }
}
