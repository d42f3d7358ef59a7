import Foundation
import KubeKit
import Yams

/// Request bodies that may be JSON or YAML (server-side apply accepts both), decoded to JSONValue.
enum RequestBodyDecoder {
    static func decode(_ data: Data, allowYAML: Bool) throws(APIError) -> JSONValue {
        let jsonError: any Error
        do {
            return try JSONValue.parse(data)
        } catch {
            jsonError = error
        }
        guard allowYAML else {
            throw APIError.badRequest(
                "the body of the request was not valid JSON: \(jsonError) (\(data.count) bytes: \(String(decoding: data.prefix(200), as: UTF8.self)))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw APIError.badRequest("the body of the request was not valid UTF-8")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { return .null }
            return convert(node)
        } catch {
            throw APIError.badRequest("error converting YAML to JSON: \(error)")
        }
    }

    static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = convert(value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .alias:
            return .null
        }
    }
}
