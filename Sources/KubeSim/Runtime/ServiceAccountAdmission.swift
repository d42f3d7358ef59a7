import KubeKit

/// What kube-apiserver's ServiceAccount admission plugin does to a new pod: `serviceAccountName` defaults to
/// `default`, and unless the pod or its ServiceAccount opts out (`automountServiceAccountToken: false`) a projected
/// `kube-api-access-<suffix>` volume (a bound token, `kube-root-ca.crt`'s `ca.crt`, the namespace) is mounted
/// read-only at `/var/run/secrets/kubernetes.io/serviceaccount` in every container that has nothing there yet.
enum ServiceAccountAdmission {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    static func apply(to pod: inout JSONValue, account: JSONValue?, suffix: String) {
        guard var spec = pod["spec"]?.objectValue else { return }
        let name = spec["serviceAccountName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        spec["serviceAccountName"] = .string(name)
        spec["serviceAccount"] = .string(name)
        let automount = spec["automountServiceAccountToken"]?.boolValue ?? account?["automountServiceAccountToken"]?.boolValue ?? true
        let volumeName = "kube-api-access-" + suffix
        var mounted = false
        if automount {
            for field in ["initContainers", "containers"] {
                guard let containers = spec[field]?.arrayValue else { continue }
                spec[field] = .array(
                    containers.map { container in
                        var mounts = container["volumeMounts"]?.arrayValue ?? []
                        guard !mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) else { return container }
                        mounts.append(["name": .string(volumeName), "mountPath": .string(mountPath), "readOnly": true])
                        mounted = true
                        var container = container
                        container["volumeMounts"] = .array(mounts)
                        return container
                    })
            }
        }
        if mounted { spec["volumes"] = .array((spec["volumes"]?.arrayValue ?? []) + [volume(named: volumeName)]) }
        pod["spec"] = .object(spec)
    }

    static func volume(named name: String) -> JSONValue {
        [
            "name": .string(name),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                ],
            ],
        ]
    }

    /// The five characters Kubernetes' generated names end with.
    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
    }
}

extension ClusterStore {
    func admitServiceAccount(_ pod: inout JSONValue) {
        let name = pod["spec"]?["serviceAccountName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let account = objects[.serviceAccountObjects]?[ObjectName(namespace: pod.metadataNamespace ?? "", name: name)]
        ServiceAccountAdmission.apply(to: &pod, account: account, suffix: ServiceAccountAdmission.randomSuffix())
    }
}
