import Foundation
import KubeKit

/// Reads a built-in kind's object the way kube-apiserver's JSON decoder reads it into the Go type the swagger
/// definition describes: a value of the wrong type is an error worded as Go's `encoding/json` words it
/// (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`), unknown fields
/// are collected with their paths (`spec.template.spec.containers[0].foo`) and dropped, and nulls become absent,
/// as the typed object would serialise them.
struct SwaggerDecoder {
    struct Result: Sendable {
        var object: JSONValue
        /// `spec.foo`, `spec.template.spec.containers[0].bar`: what strict decoding reports.
        var unknownFields: [String]
        /// The same fields as server-side apply names them (`.spec.template.spec.containers[name="app"].bar`).
        var unknownApplyFields: [String]
        /// The first type error, in decoder wording, or nil.
        var typeError: String?
        /// The first type error as server-side apply's typed conversion words it (`.spec.replicas: expected ...`).
        var applyTypeError: String?
    }

    let definitions: [String: JSONValue]

    init(definitions: [String: JSONValue] = Swagger.shared.definitions) {
        self.definitions = definitions
    }

    func decode(_ object: JSONValue, definition: String) -> Result {
        var state = Walk()
        let root: JSONValue = ["$ref": .string("#/definitions/\(definition)")]
        let decoded = walk(object, schema: root, at: Location(), state: &state) ?? .object([:])
        return Result(
            object: decoded, unknownFields: state.unknown, unknownApplyFields: state.unknownApply,
            typeError: state.typeError, applyTypeError: state.applyTypeError)
    }

    /// Where the decoder is, as the steps from the root: the strict path (with indices), the apply path (with
    /// list-map keys), and what Go's `UnmarshalTypeError` carries (the field names without indices and the struct that
    /// holds the last one). Rendered only when something is reported there: every write walks every field, and
    /// building these strings at each one took a third of the decoder's time.
    private final class Location: Sendable {
        private enum Step {
            case field(String, definition: String?)
            case item(Int, element: JSONValue, keys: [String]?)
            case entry(String)
        }

        /// The location this one is a step inside of; nil at the root.
        private let link: (parent: Location, step: Step)?

        init() { link = nil }

        private init(_ parent: Location, _ step: Step) { link = (parent, step) }

        /// A field of an object whose swagger definition is `definition` (nil for an inline schema).
        func field(_ name: String, in definition: String?) -> Location { Location(self, .field(name, definition: definition)) }

        func item(_ index: Int, element: JSONValue, keys: [String]?) -> Location { Location(self, .item(index, element: element, keys: keys)) }

        func entry(_ key: String) -> Location { Location(self, .entry(key)) }

        var strict: String {
            guard let (parent, step) = link else { return "" }
            switch step {
            case .field(let name, _):
                let base = parent.strict
                return base.isEmpty ? name : "\(base).\(name)"
            case .item(let index, _, _): return "\(parent.strict)[\(index)]"
            case .entry(let key): return "\(parent.strict)[\(key)]"
            }
        }

        var apply: String {
            guard let (parent, step) = link else { return "" }
            switch step {
            case .field(let name, _): return "\(parent.apply).\(name)"
            case .item(let index, let element, let keys): return parent.apply + (keys.flatMap { SwaggerDecoder.applyKey(element, keys: $0) } ?? "[\(index)]")
            case .entry(let key): return "\(parent.apply).\(key)"
            }
        }

        var goFields: [String] {
            guard let (parent, step) = link else { return [] }
            if case .field(let name, _) = step { return parent.goFields + [name] }
            return parent.goFields
        }

        var goStruct: String? {
            guard let (parent, step) = link else { return nil }
            if case .field(_, let definition?) = step { return SwaggerDecoder.structName(definition) }
            return parent.goStruct
        }
    }

    private struct Walk {
        var unknown: [String] = []
        var unknownApply: [String] = []
        var typeError: String?
        var applyTypeError: String?
    }

    /// Definitions with their own JSON decoding in Go, and definitions that accept any JSON.
    private static let quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    private static let intOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    private static let quantityPattern = #"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"#

    private func walk(_ value: JSONValue, schema rawSchema: JSONValue, at location: Location, state: inout Walk) -> JSONValue? {
        if value == .null { return nil }
        var schema = rawSchema
        var definitionName: String?
        if let ref = rawSchema["$ref"]?.stringValue {
            let name = Swagger.definitionName(of: ref)
            definitionName = name
            schema = definitions[name] ?? .object([:])
        }
        if let definitionName {
            switch definitionName {
            case Self.quantity:
                switch value {
                case .int, .double: return value
                case .string(let text) where Self.isQuantity(text): return value
                default:
                    fail(
                        "quantities must match the regular expression '\(Self.quantityPattern)'", apply: "expected string or number", at: location,
                        state: &state)
                    return value
                }
            case Self.intOrString:
                switch value {
                case .string: return value
                case .int(let number) where Int64(Int32.min)...Int64(Int32.max) ~= number: return value
                default:
                    fail(
                        "json: cannot unmarshal \(Self.jsonKind(value, into: "int32")) into Go value of type int32",
                        apply: "expected string or int, got \(Self.applyKind(value))", at: location, state: &state)
                    return value
                }
            default: break
            }
        }
        let type = schema["type"]?.stringValue
        let properties = schema["properties"]?.objectValue
        switch type {
        case "object":
            guard case .object(let members) = value else {
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
            if let properties {
                var kept: [String: JSONValue] = [:]
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    let next = location.field(name, in: definitionName)
                    guard let memberSchema = properties[name] else {
                        state.unknown.append(next.strict)
                        state.unknownApply.append(next.apply)
                        continue
                    }
                    kept[name] = walk(member, schema: memberSchema, at: next, state: &state)
                }
                return .object(kept)
            }
            if let valueSchema = schema["additionalProperties"], case .object = valueSchema {
                var kept: [String: JSONValue] = [:]
                for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                    kept[key] = walk(member, schema: valueSchema, at: location.entry(key), state: &state)
                }
                return .object(kept)
            }
            return value  // RawExtension, FieldsV1 and the like hold any JSON object.
        case "array":
            guard case .array(let elements) = value else {
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
            let itemSchema = schema["items"] ?? .object([:])
            let keys = listMapKeys(schema)
            return .array(
                elements.enumerated().map { index, element in
                    walk(element, schema: itemSchema, at: location.item(index, element: element, keys: keys), state: &state) ?? .null
                })
        case "string":
            guard case .string(let text) = value else {
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
            if schema["format"]?.stringValue == "byte", let offset = Self.invalidBase64Offset(text) {
                fail("illegal base64 data at input byte \(offset)", apply: nil, at: location, state: &state)
            }
            return value
        case "integer":
            let bits = schema["format"]?.stringValue == "int32" ? Int64(Int32.max) : Int64.max
            switch value {
            case .int(let number) where number >= -bits - 1 && number <= bits: return value
            case .double(let number) where number.rounded() == number && abs(number) <= Double(bits):
                return .int(Int64(number))
            default:
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
        case "number":
            switch value {
            case .int, .double: return value
            default:
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
        case "boolean":
            guard case .bool = value else {
                mismatch(value, schema: rawSchema, at: location, state: &state)
                return value
            }
            return value
        default:
            return value  // No type: any JSON (apiextensions JSON, JSONSchemaPropsOrArray, ...).
        }
    }

    private func mismatch(_ value: JSONValue, schema: JSONValue, at location: Location, state: inout Walk) {
        let goType = goType(schema)
        let target: String
        if location.goFields.isEmpty {
            target = "Go value of type \(goType)"
        } else {
            target = "Go struct field \(location.goStruct ?? "").\(location.goFields.joined(separator: ".")) of type \(goType)"
        }
        fail(
            "json: cannot unmarshal \(Self.jsonKind(value, into: goType)) into \(target)",
            apply: "expected \(applyExpectation(schema)), got \(Self.applyKind(value))", at: location, state: &state)
    }

    private func fail(_ message: String, apply: String?, at location: Location, state: inout Walk) {
        if state.typeError == nil { state.typeError = message }
        if state.applyTypeError == nil, let apply { state.applyTypeError = "\(location.apply): \(apply)" }
    }

    private func resolved(_ schema: JSONValue) -> JSONValue {
        guard let ref = schema["$ref"]?.stringValue else { return schema }
        return definitions[Swagger.definitionName(of: ref)] ?? .object([:])
    }

    private func listMapKeys(_ schema: JSONValue) -> [String]? {
        if schema["x-kubernetes-list-type"]?.stringValue == "map",
            let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue), !keys.isEmpty
        {
            return keys
        }
        if schema["x-kubernetes-patch-strategy"]?.stringValue?.contains("merge") == true,
            let key = schema["x-kubernetes-patch-merge-key"]?.stringValue
        {
            return [key]
        }
        return nil
    }

    /// `[name="app"]`, `[containerPort=80,protocol="TCP"]`: a list-map item as structured-merge-diff names it.
    private static func applyKey(_ element: JSONValue, keys: [String]) -> String? {
        let parts = keys.compactMap { key -> String? in
            guard let value = element[key] else { return nil }
            let rendered = value.canonicalJSON
            return "\(key)=\(rendered)"
        }
        return parts.isEmpty ? nil : "[" + parts.joined(separator: ",") + "]"
    }

    /// The Go type a schema decodes into, as `reflect.Type.String()` prints it.
    func goType(_ schema: JSONValue) -> String {
        if let ref = schema["$ref"]?.stringValue {
            let parts = Swagger.definitionName(of: ref).split(separator: ".")
            return parts.suffix(2).joined(separator: ".")
        }
        switch schema["type"]?.stringValue {
        case "string": return schema["format"]?.stringValue == "byte" ? "[]uint8" : "string"
        case "integer":
            let format = schema["format"]?.stringValue ?? ""
            return format.isEmpty ? "int" : format
        case "number": return "float64"
        case "boolean": return "bool"
        case "array": return "[]" + goType(schema["items"] ?? .object([:]))
        case "object":
            if let valueSchema = schema["additionalProperties"], case .object = valueSchema { return "map[string]" + goType(valueSchema) }
            return "map[string]interface {}"
        default: return "interface {}"
        }
    }

    private func applyExpectation(_ schema: JSONValue) -> String {
        switch resolved(schema)["type"]?.stringValue {
        case "string": "string"
        case "integer", "number": "numeric (int or float)"
        case "boolean": "boolean"
        case "array": "list"
        default: "map"
        }
    }

    /// What Go's decoder calls the JSON value it could not store ("number 1.5" when it was meant for an integer).
    private static func jsonKind(_ value: JSONValue, into goType: String) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        case .int(let number): goType.hasPrefix("int") ? "number \(number)" : "number"
        case .double(let number): goType.hasPrefix("int") ? "number \(Self.goNumber(number))" : "number"
        }
    }

    private static func applyKind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .string: "string"
        case .array: "list"
        case .object: "map"
        case .int, .double: "numeric"
        }
    }

    private static func goNumber(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e21 ? String(format: "%.0f", number) : String(number)
    }

    /// Whether a string matches `quantityPattern`; scanned by hand because this runs for every quantity of every
    /// write. The pattern's character classes do not overlap, so one greedy pass decides it.
    static func isQuantity(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let number = bytes.prefix { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }
        guard !number.isEmpty else { return false }
        bytes = bytes.dropFirst(number.count)
        let suffixLetters = Set("eEinumkKMGTP".utf8)
        bytes = bytes.drop { suffixLetters.contains($0) }
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        return bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
    private static func structName(_ definition: String) -> String {
        definition.split(separator: ".").last.map(String.init) ?? definition
    }

    /// The offset Go's base64 decoder reports for the first byte it cannot read, or nil for valid standard base64.
    static func invalidBase64Offset(_ text: String) -> Int? {
        if Data(base64Encoded: text) != nil { return nil }
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        if let bad = text.enumerated().first(where: { !alphabet.contains($0.element) }) { return bad.offset }
        return text.count - text.count % 4
    }
}
