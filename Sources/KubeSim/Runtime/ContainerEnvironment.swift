import Foundation
import KubeKit

/// A container's environment as the kubelet builds it, from the pod, the objects it references and the image: the
/// image's variables, then `envFrom`, then `env` in order (later wins), each value `$(VAR)`-expanded against what came
/// before, and the Service variables a kubelet adds (`KUBERNETES_SERVICE_HOST`, ...).
struct ContainerEnvironment: Sendable, Equatable {
    /// Objects a container's env may reference.
    struct References: Sendable {
        var configMaps: [String: JSONValue] = [:]
        var secrets: [String: JSONValue] = [:]
    }

    /// What the pod is, for `fieldRef`.
    struct PodFacts: Sendable {
        var podIP: String
        var hostIP: String
        /// The node's allocatable CPU cores and memory bytes, the value of a `resourceFieldRef` to an unset limit.
        var nodeCPU: Double = 8
        var nodeMemory: Double = 32 * 1024 * 1024 * 1024
    }

    private(set) var variables: [(name: String, value: String)] = []

    static func == (lhs: ContainerEnvironment, rhs: ContainerEnvironment) -> Bool {
        lhs.variables.map(\.name) == rhs.variables.map(\.name) && lhs.variables.map(\.value) == rhs.variables.map(\.value)
    }

    var dictionary: [String: String] { Dictionary(variables.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }) }

    mutating func set(_ name: String, _ value: String) {
        if let index = variables.firstIndex(where: { $0.name == name }) {
            variables[index].value = value
        } else {
            variables.append((name, value))
        }
    }

    /// Builds the environment, or says (as the kubelet's CreateContainerConfigError) what reference is missing.
    static func build(
        pod: JSONValue, container: JSONValue, image: [String: String], base: [(String, String)], facts: PodFacts, references: References
    ) -> Result<ContainerEnvironment, ContainerConfigError> {
        var environment = ContainerEnvironment()
        for (name, value) in base { environment.set(name, value) }
        for name in image.keys.sorted() { environment.set(name, image[name] ?? "") }
        let namespace = pod.metadataNamespace ?? "default"
        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let reference = source["configMapRef"] {
                let name = reference["name"]?.stringValue ?? ""
                guard let object = references.configMaps[name] else {
                    if reference["optional"]?.boolValue == true { continue }
                    return .failure(ContainerConfigError("configmap \"\(name)\" not found"))
                }
                for (key, value) in (object["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    environment.set(prefix + key, value.stringValue ?? "")
                }
            }
            if let reference = source["secretRef"] {
                let name = reference["name"]?.stringValue ?? ""
                guard let object = references.secrets[name] else {
                    if reference["optional"]?.boolValue == true { continue }
                    return .failure(ContainerConfigError("secret \"\(name)\" not found"))
                }
                for (key, value) in secretData(object).sorted(by: { $0.key < $1.key }) { environment.set(prefix + key, value) }
            }
        }
        for variable in container["env"]?.arrayValue ?? [] {
            guard let name = variable["name"]?.stringValue else { continue }
            if let value = variable["value"]?.stringValue {
                environment.set(name, VariableExpansion.expand(value, with: environment.dictionary))
                continue
            }
            guard let source = variable["valueFrom"] else {
                environment.set(name, "")
                continue
            }
            switch resolve(source, pod: pod, container: container, namespace: namespace, facts: facts, references: references) {
            case .success(let value?): environment.set(name, value)
            case .success(nil): continue
            case .failure(let error): return .failure(error)
            }
        }
        return .success(environment)
    }

    private static func resolve(
        _ source: JSONValue, pod: JSONValue, container: JSONValue, namespace: String, facts: PodFacts, references: References
    ) -> Result<String?, ContainerConfigError> {
        if let field = source["fieldRef"]?["fieldPath"]?.stringValue {
            return fieldValue(field, pod: pod, facts: facts).map { .success($0) }
                ?? .failure(ContainerConfigError("unsupported fieldRef \(field)"))
        }
        if let reference = source["secretKeyRef"] {
            let name = reference["name"]?.stringValue ?? ""
            let key = reference["key"]?.stringValue ?? ""
            if let value = references.secrets[name].flatMap({ secretData($0)[key] }) { return .success(value) }
            if reference["optional"]?.boolValue == true { return .success(nil) }
            return .failure(
                ContainerConfigError(
                    references.secrets[name] == nil
                        ? "secret \"\(name)\" not found" : "couldn't find key \(key) in Secret \(namespace)/\(name)"))
        }
        if let reference = source["configMapKeyRef"] {
            let name = reference["name"]?.stringValue ?? ""
            let key = reference["key"]?.stringValue ?? ""
            if let value = references.configMaps[name]?["data"]?[key]?.stringValue { return .success(value) }
            if reference["optional"]?.boolValue == true { return .success(nil) }
            return .failure(
                ContainerConfigError(
                    references.configMaps[name] == nil
                        ? "configmap \"\(name)\" not found" : "couldn't find key \(key) in ConfigMap \(namespace)/\(name)"))
        }
        if let reference = source["resourceFieldRef"] {
            return resourceValue(reference, pod: pod, container: container, facts: facts).map { .success($0) }
                ?? .failure(ContainerConfigError("unsupported resourceFieldRef \(reference["resource"]?.stringValue ?? "")"))
        }
        return .failure(ContainerConfigError("valueFrom needs one of fieldRef, secretKeyRef, configMapKeyRef, resourceFieldRef"))
    }

    static func fieldValue(_ path: String, pod: JSONValue, facts: PodFacts) -> String? {
        switch path {
        case "metadata.name": return pod.metadataName ?? ""
        case "metadata.namespace": return pod.metadataNamespace ?? "default"
        case "metadata.uid": return pod.uid ?? ""
        case "spec.nodeName": return pod["spec"]?["nodeName"]?.stringValue ?? ""
        case "spec.serviceAccountName": return pod["spec"]?["serviceAccountName"]?.stringValue ?? "default"
        case "status.podIP", "status.podIPs": return facts.podIP
        case "status.hostIP", "status.hostIPs": return facts.hostIP
        default:
            for (field, kind) in [("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")]
            where path.hasPrefix(field) && path.hasSuffix("']") {
                let key = String(path.dropFirst(field.count).dropLast(2))
                return pod["metadata"]?[kind]?[key]?.stringValue ?? ""
            }
            return nil
        }
    }

    private static func resourceValue(_ reference: JSONValue, pod: JSONValue, container: JSONValue, facts: PodFacts) -> String? {
        guard let resource = reference["resource"]?.stringValue else { return nil }
        let parts = resource.split(separator: ".")
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]), ["cpu", "memory", "ephemeral-storage"].contains(parts[1]) else { return nil }
        let kind = String(parts[1])
        let divisor = reference["divisor"].flatMap(PersistentVolumeClaimValidation.quantity)?.doubleValue ?? 1
        let set = container["resources"]?[String(parts[0])]?[kind].flatMap(PersistentVolumeClaimValidation.quantity)?.doubleValue
        let amount = set ?? (kind == "cpu" ? facts.nodeCPU : facts.nodeMemory)
        return String(Int64((amount / max(divisor, 1e-9)).rounded(.up)))
    }

    /// A Secret's values, decoded from `data` (base64) and `stringData`.
    static func secretData(_ secret: JSONValue) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in secret["data"]?.objectValue ?? [:] {
            if let text = value.stringValue, let data = Data(base64Encoded: text) { values[key] = String(decoding: data, as: UTF8.self) }
        }
        for (key, value) in secret["stringData"]?.objectValue ?? [:] { values[key] = value.stringValue ?? "" }
        return values
    }

}

/// A container cannot be started because of its configuration (the kubelet's CreateContainerConfigError).
struct ContainerConfigError: Error, Sendable, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
