import Foundation
import Hummingbird
import KubeKit

/// The `scale` subresource: an `autoscaling/v1 Scale` view of `spec.replicas`, `status.replicas` and the selector.
struct ScaleHandler: Sendable {
    let store: ClusterStore

    func handle(_ request: Request, resource: APIResource, namespace: String?, name: String, verb: String, query: QueryParameters) async throws -> Response {
        let object = try await store.get(resource, namespace: namespace, name: name)
        switch verb {
        case "get":
            return KubeSimResponder.json(Self.scale(of: object))
        case "update", "patch":
            let buffer = try await request.apiBody()
            let body = try RequestBodyDecoder.decode(Data(buffer.readableBytesView), allowYAML: false)
            var scale = Self.scale(of: object)
            if verb == "update" {
                scale = body
            } else if request.headers[.contentType]?.hasPrefix("application/json-patch+json") == true {
                do { scale = try JSONPatch.apply(body, to: scale) } catch {
                    throw APIError(code: 422, reason: "Invalid", message: error.message)
                }
            } else {
                scale = MergePatch.apply(body, to: scale)
            }
            guard let replicas = scale["spec"]?["replicas"]?.intValue, replicas >= 0 else {
                throw APIError.invalid(
                    resource, name: name, causes: [("spec.replicas", "FieldValueInvalid", "Invalid value: must be greater than or equal to 0")])
            }
            var updated = object
            updated["spec"]?["replicas"] = .int(replicas)
            if let rv = scale["metadata"]?["resourceVersion"]?.stringValue, !rv.isEmpty {
                updated.setMetadata("resourceVersion", .string(rv))
            }
            let context = WriteContext(
                manager: query["fieldManager"] ?? ResourceHandler.defaultManager(userAgent: request.headers[.userAgent]),
                dryRun: query["dryRun"] == "All")
            let result = try await store.update(resource, namespace: namespace, name: name, body: updated, subresource: nil, context: context)
            return KubeSimResponder.json(Self.scale(of: result))
        default:
            throw APIError.methodNotAllowed()
        }
    }

    static func scale(of object: JSONValue) -> JSONValue {
        var metadata: [String: JSONValue] = [:]
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = object["metadata"]?[key] { metadata[key] = value }
        }
        var status: [String: JSONValue] = ["replicas": object["status"]?["replicas"] ?? .int(0)]
        if let labels = object["spec"]?["selector"]?["matchLabels"]?.objectValue {
            status["selector"] = .string(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": object["spec"]?["replicas"] ?? .int(1)], "status": .object(status),
        ]
    }
}
