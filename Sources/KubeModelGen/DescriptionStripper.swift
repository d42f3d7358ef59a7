import Foundation
import JSONValues

/// Removes the prose from a Kubernetes OpenAPI document.
///
/// The upstream document is about half descriptions; the repository keeps a copy without them so that KubeSim can
/// serve `/openapi/v2` and validate objects without carrying 2 MB of text.
public enum DescriptionStripper {
    /// Reads an OpenAPI document and returns it without any string-valued `description` key, with sorted keys so
    /// that the output depends only on the input (see `JSONValue.indentedText`).
    public static func strip(_ document: Data) throws -> Data {
        let tree = try JSONDecoder().decode(JSONValue.self, from: document)
        return Data(strip(tree).indentedText.utf8)
    }

    /// The tree without string-valued `description` keys. A schema *property* named `description` (its value is an
    /// object, as in `JSONSchemaProps.properties.description`) is part of the API and stays.
    public static func strip(_ tree: JSONValue) -> JSONValue {
        switch tree {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, value) in members {
                if key == "description", case .string = value { continue }
                kept[key] = strip(value)
            }
            return .object(kept)
        case .array(let elements):
            return .array(elements.map(strip))
        case .null, .bool, .int, .double, .string:
            return tree
        }
    }
}
