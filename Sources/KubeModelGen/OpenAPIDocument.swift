import Foundation

/// The parts of a Swagger 2.0 document that model generation reads: the schema definitions and, to learn each
/// kind's plural and scope, the `post` operations of the paths.
struct OpenAPIDocument: Decodable, Sendable {
    let definitions: [String: Schema]
    let paths: [String: PathItem]

    init(data: Data) throws {
        self = try JSONDecoder().decode(OpenAPIDocument.self, from: data)
    }
}

/// One schema of the document: a definition or a property.
final class Schema: Decodable, Sendable {
    /// The referenced definition's name (`io.k8s.api.core.v1.PodSpec`), from `$ref`.
    let reference: String?
    let type: String?
    let format: String?
    let items: Schema?
    /// The schema of a map's values; an empty schema for `additionalProperties: true`.
    let additionalProperties: Schema?
    let properties: [String: Schema]
    let required: Set<String>
    let groupVersionKinds: [GroupVersionKind]

    private enum CodingKeys: String, CodingKey {
        case reference = "$ref"
        case type, format, items, additionalProperties, properties, required
        case groupVersionKinds = "x-kubernetes-group-version-kind"
    }

    private static let definitionPrefix = "#/definitions/"

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let reference = try container.decodeIfPresent(String.self, forKey: .reference) {
            guard reference.hasPrefix(Self.definitionPrefix) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .reference, in: container, debugDescription: "unsupported reference \(reference)")
            }
            self.reference = String(reference.dropFirst(Self.definitionPrefix.count))
        } else {
            self.reference = nil
        }
        type = try container.decodeIfPresent(String.self, forKey: .type)
        format = try container.decodeIfPresent(String.self, forKey: .format)
        items = try container.decodeIfPresent(Schema.self, forKey: .items)
        // Swagger allows `additionalProperties: true` (any value) as well as a schema.
        if let anyValueAllowed = try? container.decode(Bool.self, forKey: .additionalProperties) {
            additionalProperties = anyValueAllowed ? Schema() : nil
        } else {
            additionalProperties = try container.decodeIfPresent(Schema.self, forKey: .additionalProperties)
        }
        properties = try container.decodeIfPresent([String: Schema].self, forKey: .properties) ?? [:]
        required = Set(try container.decodeIfPresent([String].self, forKey: .required) ?? [])
        groupVersionKinds = try container.decodeIfPresent([GroupVersionKind].self, forKey: .groupVersionKinds) ?? []
    }

    /// The empty schema: any JSON value.
    private init() {
        reference = nil
        type = nil
        format = nil
        items = nil
        additionalProperties = nil
        properties = [:]
        required = []
        groupVersionKinds = []
    }
}

struct GroupVersionKind: Decodable, Sendable, Hashable {
    let group: String
    let version: String
    let kind: String

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
}

struct PathItem: Decodable, Sendable {
    let post: Operation?
}

struct Operation: Decodable, Sendable {
    let action: String?
    let groupVersionKind: GroupVersionKind?

    private enum CodingKeys: String, CodingKey {
        case action = "x-kubernetes-action"
        case groupVersionKind = "x-kubernetes-group-version-kind"
    }
}
