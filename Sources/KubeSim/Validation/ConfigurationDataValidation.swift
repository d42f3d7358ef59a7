import KubeKit

/// ConfigMap and Secret keys (`IsConfigMapKey`, reported at `data[key]`), and the keys a typed Secret must hold.
enum ConfigurationDataValidation {
    static func configMap(_ object: JSONValue) -> FieldErrors {
        var errors = keys(of: object["data"], in: "data")
        errors.append(contentsOf: keys(of: object["binaryData"], in: "binaryData"))
        let binary = Set((object["binaryData"]?.objectValue ?? [:]).keys)
        for key in (object["data"]?.objectValue ?? [:]).keys.sorted() where binary.contains(key) {
            errors.invalid("data[\(key)]", key, "duplicate of key present in binaryData")
        }
        return errors
    }

    /// The keys each well-known Secret type requires, as `ValidateSecret` checks them.
    static let requiredKeys: [String: [String]] = [
        "kubernetes.io/tls": ["tls.crt", "tls.key"],
        "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
        "kubernetes.io/dockercfg": [".dockercfg"],
        "kubernetes.io/ssh-auth": ["ssh-privatekey"],
    ]

    static func secret(_ object: JSONValue) -> FieldErrors {
        var errors = keys(of: object["data"], in: "data")
        let data = object["data"]?.objectValue ?? [:]
        let type = object["type"]?.stringValue ?? "Opaque"
        for key in requiredKeys[type] ?? [] where data[key] == nil { errors.required("data[\(key)]") }
        if type == "kubernetes.io/service-account-token",
            (object["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]?.stringValue ?? "").isEmpty
        {
            errors.required("metadata.annotations[kubernetes.io/service-account.name]")
        }
        return errors
    }

    private static func keys(of map: JSONValue?, in field: String) -> FieldErrors {
        var errors = FieldErrors()
        for key in (map?.objectValue ?? [:]).keys.sorted() {
            errors.invalid("\(field)[\(key)]", key, each: ValueFormats.configMapKey(key))
        }
        return errors
    }
}
