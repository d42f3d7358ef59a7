import Foundation
import KubeKit

/// The messages of Kubernetes' `generated.proto` files, as `kube-model-gen proto` wrote them into
/// `Resources/protobuf-schema.json`: what the protobuf codec decodes and encodes by.
struct ProtobufSchema: Sendable {
    struct Field: Sendable, Decodable {
        enum Label: String, Sendable, Decodable { case optional, repeated, required, map }
        var number: Int
        /// The JSON name.
        var name: String
        /// A scalar type (`string`, `int32`, ...) or a message's full name.
        var type: String
        var label: Label
        var keyType: String?
        /// Marked `+optional` upstream: a zero value Go marshals anyway reads as absent, as JSON's omitempty has it.
        var optional: Bool?
        /// An optional pointer field, whose explicit zero is meant.
        var keepZero: Bool?
    }

    struct Message: Sendable, Decodable {
        var fields: [Field]
        /// A wrapper of a Go slice (`Verbs`): a JSON array of its `items`.
        var slice: Bool?

        func field(number: Int) -> Field? { fields.first { $0.number == number } }
        func field(named name: String) -> Field? { fields.first { $0.name == name } }
    }

    let messages: [String: Message]

    static let shared: ProtobufSchema = {
        struct Document: Decodable { var messages: [String: Message] }
        guard let url = Bundle.module.url(forResource: "protobuf-schema", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let document = try? JSONDecoder().decode(Document.self, from: data)
        else { return ProtobufSchema(messages: [:]) }
        return ProtobufSchema(messages: document.messages)
    }()

    /// The message of a built-in kind: `apps/v1` `Deployment` is `k8s.io.api.apps.v1.Deployment`; nil for custom
    /// resources and kinds with no protobuf form.
    func messageName(apiVersion: String, kind: String) -> String? {
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "")
        let package: String
        switch group {
        case "": package = "k8s.io.api.core.\(version)"
        case "meta.k8s.io": package = "k8s.io.apimachinery.pkg.apis.meta.\(version)"
        default:
            // Built-in groups are `<name>.k8s.io` or a bare name (`apps`, `batch`, `policy`, `autoscaling`).
            guard group.hasSuffix(".k8s.io") || !group.contains(".") else { return nil }
            let name = group.split(separator: ".").first.map(String.init) ?? group
            package = "k8s.io.api.\(name).\(version)"
        }
        let full = "\(package).\(kind)"
        return messages[full] == nil ? nil : full
    }
}
