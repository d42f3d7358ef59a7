import Foundation
import KubeKit

/// `application/vnd.kubernetes.protobuf` bodies: the magic `k8s\0`, then a `runtime.Unknown` whose `typeMeta` names
/// the kind and whose `raw` is the object's message.
enum ProtobufEnvelope {
    static let mediaType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// Whether the first media range of `Accept` is protobuf (kubectl asks `application/vnd.kubernetes.protobuf, */*`
    /// for built-in kinds and JSON for custom resources).
    static func isPreferred(accept: String?) -> Bool {
        guard let first = accept?.split(separator: ",").first else { return false }
        let parameters = first.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return parameters.first == mediaType && !parameters.contains { $0.hasPrefix("as=") }
    }

    /// The object as JSON, with `apiVersion` and `kind` from the envelope; a custom resource or an unknown kind is
    /// refused as a real server refuses it.
    static func decode(_ bytes: [UInt8], codec: ProtobufCodec = .shared) throws(APIError) -> JSONValue {
        guard bytes.starts(with: magic) else {
            throw APIError.badRequest("the protobuf body does not start with the Kubernetes magic number k8s\\x00")
        }
        let unknown: JSONValue
        do {
            unknown = try codec.decode(Array(bytes.dropFirst(magic.count)), as: "k8s.io.apimachinery.pkg.runtime.Unknown")
        } catch {
            throw APIError.badRequest("the protobuf envelope cannot be read: \(error)")
        }
        let apiVersion = unknown["typeMeta"]?["apiVersion"]?.stringValue ?? ""
        let kind = unknown["typeMeta"]?["kind"]?.stringValue ?? ""
        guard let message = codec.schema.messageName(apiVersion: apiVersion, kind: kind) else {
            throw APIError.unsupportedMediaType(mediaType)
        }
        let raw = unknown["raw"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
        var object: JSONValue
        do {
            object = try codec.decode(raw, as: message)
        } catch {
            throw APIError.badRequest("the \(kind) in the protobuf body cannot be read: \(error)")
        }
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    /// The object in the envelope, or nil when its kind has no protobuf form (a custom resource: answered as JSON).
    static func encode(_ object: JSONValue, codec: ProtobufCodec = .shared) -> [UInt8]? {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        guard let message = codec.schema.messageName(apiVersion: apiVersion, kind: kind) else { return nil }
        var fields = object
        fields["apiVersion"] = nil
        fields["kind"] = nil
        let raw = codec.encode(fields, as: message)
        let unknown: JSONValue = [
            "typeMeta": ["apiVersion": .string(apiVersion), "kind": .string(kind)],
            "raw": .string(Data(raw).base64EncodedString()),
        ]
        return magic + codec.encode(unknown, as: "k8s.io.apimachinery.pkg.runtime.Unknown")
    }
}
