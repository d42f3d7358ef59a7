import Foundation
import KubeKit

/// A custom resource checked against its CRD version's structural `openAPIV3Schema`, the way kube-apiserver's
/// apiextensions handler does on create and update: null values of non-nullable fields and unknown fields are
/// pruned, defaults are filled in, and then every value is validated, each problem becoming a cause with the field
/// path (`spec.componentSpecs[0].replicas`) and the server's wording.
///
/// Of the CEL rules in `x-kubernetes-validations`, only the transition rule `self == oldSelf` is evaluated (the form
/// CRDs use for immutable fields); KubeSim has no CEL interpreter, so other rules are not checked.
struct StructuralSchema: Sendable {
    typealias Cause = (field: String, reason: String, message: String)

    let root: JSONValue

    init(_ root: JSONValue) {
        self.root = root
    }

    /// The object as it is stored: pruned and defaulted. `apiVersion`, `kind` and `metadata` are the server's and
    /// left alone.
    func prepared(_ object: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        let properties = root["properties"]?.objectValue ?? [:]
        for (name, value) in members where !["apiVersion", "kind", "metadata"].contains(name) {
            if let schema = properties[name] {
                if value == .null, schema["nullable"]?.boolValue != true {
                    members[name] = nil
                } else {
                    members[name] = Self.prepare(value, schema: schema)
                }
            } else if root["x-kubernetes-preserve-unknown-fields"]?.boolValue != true {
                members[name] = nil
            }
        }
        for (name, schema) in properties where members[name] == nil && !["apiVersion", "kind", "metadata"].contains(name) {
            if let value = schema["default"] { members[name] = Self.prepare(value, schema: schema) }
        }
        return .object(members)
    }

    private static func prepare(_ value: JSONValue, schema: JSONValue) -> JSONValue {
        switch value {
        case .object(var members):
            if let properties = schema["properties"]?.objectValue {
                let keepsUnknown =
                    schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
                    || schema["x-kubernetes-embedded-resource"]?.boolValue == true
                for (name, member) in members {
                    if let propertySchema = properties[name] {
                        if member == .null, propertySchema["nullable"]?.boolValue != true {
                            members[name] = nil
                        } else {
                            members[name] = prepare(member, schema: propertySchema)
                        }
                    } else if !keepsUnknown {
                        members[name] = nil
                    }
                }
                for (name, propertySchema) in properties where members[name] == nil {
                    if let defaultValue = propertySchema["default"] { members[name] = prepare(defaultValue, schema: propertySchema) }
                }
            } else if let valueSchema = schema["additionalProperties"], case .object = valueSchema {
                for (name, member) in members { members[name] = prepare(member, schema: valueSchema) }
            } else if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue != true, schema["type"]?.stringValue == "object" {
                // An object with neither properties nor additionalProperties keeps nothing (structural pruning).
                members = [:]
            }
            return .object(members)
        case .array(let elements):
            guard let itemSchema = schema["items"] else { return value }
            return .array(elements.map { prepare($0, schema: itemSchema) })
        default:
            return value
        }
    }

    /// Every problem with `object`; `old` is the stored object on update, for transition rules.
    func validate(_ object: JSONValue, old: JSONValue?) -> [Cause] {
        var causes: [Cause] = []
        let properties = root["properties"]?.objectValue ?? [:]
        for name in (root["required"]?.arrayValue ?? []).compactMap(\.stringValue) where object[name] == nil {
            causes.append((name, "FieldValueRequired", "Required value"))
        }
        for (name, schema) in properties.sorted(by: { $0.key < $1.key }) where !["apiVersion", "kind", "metadata"].contains(name) {
            guard let value = object[name] else { continue }
            Self.validate(value, old: old?[name], schema: schema, path: name, into: &causes)
        }
        return causes
    }

    private static func validate(_ value: JSONValue, old: JSONValue?, schema: JSONValue, path: String, into causes: inout [Cause]) {
        if value == .null {
            if schema["nullable"]?.boolValue != true { causes.append(typeError(value, expected: schema["type"]?.stringValue ?? "object", path: path)) }
            return
        }
        if schema["x-kubernetes-int-or-string"]?.boolValue == true {
            switch value {
            case .int, .string: break
            default:
                causes.append(typeError(value, expected: "integer,string", path: path))
                return
            }
        } else if let type = schema["type"]?.stringValue, !matches(value, type: type) {
            causes.append(typeError(value, expected: type, path: path))
            return
        }
        checkValue(value, schema: schema, path: path, into: &causes)
        checkTransitionRules(value, old: old, schema: schema, path: path, into: &causes)

        switch value {
        case .object(let members):
            if let properties = schema["properties"]?.objectValue {
                for name in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) where members[name] == nil {
                    causes.append(("\(path).\(name)", "FieldValueRequired", "Required value"))
                }
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    guard let propertySchema = properties[name] else { continue }
                    validate(member, old: old?[name], schema: propertySchema, path: "\(path).\(name)", into: &causes)
                }
            } else if let valueSchema = schema["additionalProperties"], case .object = valueSchema {
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    validate(member, old: old?[name], schema: valueSchema, path: "\(path)[\(name)]", into: &causes)
                }
            }
        case .array(let elements):
            guard let itemSchema = schema["items"] else { return }
            let mapKeys =
                schema["x-kubernetes-list-type"]?.stringValue == "map"
                ? (schema["x-kubernetes-list-map-keys"]?.arrayValue ?? []).compactMap(\.stringValue) : []
            let oldElements = old?.arrayValue ?? []
            var seenKeys: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                // Transition rules reach into lists only where an element has an identity: list maps, by key.
                var oldElement: JSONValue?
                if !mapKeys.isEmpty {
                    let key = JSONValue.object(Dictionary(uniqueKeysWithValues: mapKeys.map { ($0, element[$0] ?? .null) }))
                    if seenKeys.contains(key) {
                        causes.append(("\(path)[\(index)]", "FieldValueDuplicate", "Duplicate value: \(render(key))"))
                    }
                    seenKeys.append(key)
                    oldElement = oldElements.first { candidate in mapKeys.allSatisfy { candidate[$0] == element[$0] } }
                }
                validate(element, old: oldElement, schema: itemSchema, path: "\(path)[\(index)]", into: &causes)
            }
            if schema["x-kubernetes-list-type"]?.stringValue == "set" {
                for (index, element) in elements.enumerated() where elements[..<index].contains(element) {
                    causes.append(("\(path)[\(index)]", "FieldValueDuplicate", "Duplicate value: \(render(element))"))
                }
            }
        default:
            break
        }
    }

    /// enum, pattern, lengths, bounds and item counts, worded as kube-openapi's validators word them.
    private static func checkValue(_ value: JSONValue, schema: JSONValue, path: String, into causes: inout [Cause]) {
        if let allowed = schema["enum"]?.arrayValue, !allowed.isEmpty, !allowed.contains(value) {
            let list = allowed.map(render).joined(separator: ", ")
            causes.append((path, "FieldValueNotSupported", "Unsupported value: \(render(value)): supported values: \(list)"))
        }
        switch value {
        case .string(let text):
            if let pattern = schema["pattern"]?.stringValue, !matchesPattern(text, pattern) {
                causes.append((path, "FieldValueInvalid", "Invalid value: \(render(value)): \(path) in body should match '\(pattern)'"))
            }
            if let maximum = schema["maxLength"]?.intValue, text.utf8.count > maximum {
                causes.append((path, "FieldValueTooLong", "Too long: may not be more than \(maximum) bytes"))
            }
            if let minimum = schema["minLength"]?.intValue, text.count < minimum {
                causes.append((path, "FieldValueInvalid", "Invalid value: \(render(value)): \(path) in body should be at least \(minimum) chars long"))
            }
        case .int, .double:
            let number = value.numberValue
            if let minimum = schema["minimum"]?.numberValue, number < minimum {
                causes.append(
                    (
                        path, "FieldValueInvalid",
                        "Invalid value: \(render(value)): \(path) in body should be greater than or equal to \(render(schema["minimum"] ?? .null))"
                    ))
            }
            if let maximum = schema["maximum"]?.numberValue, number > maximum {
                causes.append(
                    (
                        path, "FieldValueInvalid",
                        "Invalid value: \(render(value)): \(path) in body should be less than or equal to \(render(schema["maximum"] ?? .null))"
                    ))
            }
        case .array(let elements):
            if let maximum = schema["maxItems"]?.intValue, elements.count > maximum {
                causes.append((path, "FieldValueTooMany", "Too many: \(elements.count): must have at most \(maximum) items"))
            }
            if let minimum = schema["minItems"]?.intValue, elements.count < minimum {
                causes.append((path, "FieldValueInvalid", "Invalid value: \(elements.count): \(path) in body should have at least \(minimum) items"))
            }
        case .object(let members):
            if let maximum = schema["maxProperties"]?.intValue, members.count > maximum {
                causes.append((path, "FieldValueTooMany", "Too many: \(members.count): must have at most \(maximum) items"))
            }
        default:
            break
        }
        if let branches = schema["anyOf"]?.arrayValue, !branches.isEmpty, schema["x-kubernetes-int-or-string"]?.boolValue != true {
            let fits = branches.contains { branch in
                var scratch: [Cause] = []
                validate(value, old: nil, schema: branch, path: path, into: &scratch)
                return scratch.isEmpty
            }
            if !fits { causes.append((path, "FieldValueInvalid", "Invalid value: \(render(value)): \(path) in body must match at least one schema in anyOf")) }
        }
    }

    private static func checkTransitionRules(_ value: JSONValue, old: JSONValue?, schema: JSONValue, path: String, into causes: inout [Cause]) {
        guard let old, let rules = schema["x-kubernetes-validations"]?.arrayValue else { return }
        for rule in rules where rule["rule"]?.stringValue?.filter({ !$0.isWhitespace }) == "self==oldSelf" && value != old {
            let message = rule["message"]?.stringValue ?? "failed rule: \(rule["rule"]?.stringValue ?? "")"
            causes.append((path, "FieldValueInvalid", "Invalid value: \"\(typeName(of: value))\": \(message)"))
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .int): true
        case ("integer", .double(let number)): number.rounded() == number
        case ("number", .int), ("number", .double): true
        default: false
        }
    }

    private static func typeError(_ value: JSONValue, expected: String, path: String) -> Cause {
        let actual = typeName(of: value)
        return (path, "FieldValueTypeInvalid", "Invalid value: \"\(actual)\": \(path) in body must be of type \(expected): \"\(actual)\"")
    }

    private static func typeName(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func matchesPattern(_ text: String, _ pattern: String) -> Bool {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return true }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A value as Go's field errors print it: strings quoted, numbers bare, objects as JSON.
    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .array, .object: value.canonicalJSON
        }
    }
}

extension JSONValue {
    fileprivate var numberValue: Double {
        switch self {
        case .int(let number): Double(number)
        case .double(let number): number
        default: .nan
        }
    }
}
