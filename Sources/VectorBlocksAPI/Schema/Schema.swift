import KubeKit

/// An OpenAPI v3 schema as a CRD needs it: structural (every node has a type, objects list their properties), with the
/// Kubernetes extensions for list maps, int-or-string and CEL transition rules.
///
/// Each API type describes its own schema next to its Swift declaration (`SchemaDescribed`); `CRDGenerator` turns the
/// kind's root schema into the `openAPIV3Schema` of its CRD, inlining the built-in kinds referenced by
/// `kubernetes(_:)` from the reference OpenAPI document, because CRD schemas cannot use `$ref`.
public struct Schema: Sendable, Hashable {
    public var type: String?
    public var format: String?
    public var description: String?
    public var properties: [String: Schema] = [:]
    public var required: [String] = []
    /// The element schema of an array, or the value schema of a map; zero or one element (an array keeps the
    /// recursive value on the heap).
    public var items: [Schema] = []
    public var additionalProperties: [Schema] = []
    public var enumValues: [String] = []
    public var pattern: String?
    public var minLength: Int?
    public var maxLength: Int?
    public var minimum: Int64?
    public var maximum: Int64?
    public var minItems: Int?
    public var maxItems: Int?
    public var defaultValue: JSONValue?
    public var listType: String?
    public var listMapKeys: [String] = []
    public var intOrString = false
    public var anyOf: [Schema] = []
    /// CEL rules; only the transition rule `self == oldSelf` is used (and understood by KubeSim).
    public var validations: [ValidationRule] = []
    /// The swagger definition (`io.k8s.api.core.v1.PodSpec`) this node stands for, inlined by the generator.
    public var kubernetesDefinition: String?

    public struct ValidationRule: Sendable, Hashable {
        public var rule: String
        public var message: String
    }

    public init(type: String? = nil) {
        self.type = type
    }
}

/// A type that knows its own OpenAPI schema. Kept next to the type so the Codable keys and the schema are read
/// together when either changes (a test encodes every example and checks that each key has a schema).
public protocol SchemaDescribed {
    static var schema: Schema { get }
}

// MARK: Building schemas

extension Schema {
    public static func object(_ properties: [String: Schema], required: [String] = []) -> Schema {
        var schema = Schema(type: "object")
        schema.properties = properties
        schema.required = required.sorted()
        return schema
    }

    public static func string(
        enum values: [String] = [], pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        format: String? = nil
    ) -> Schema {
        var schema = Schema(type: "string")
        schema.enumValues = values
        schema.pattern = pattern
        schema.minLength = minLength
        schema.maxLength = maxLength
        schema.format = format
        return schema
    }

    /// A string whose values are those of a `String`-backed enum.
    public static func string<Values: CaseIterable & RawRepresentable>(oneOf _: Values.Type) -> Schema
    where Values.RawValue == String {
        string(enum: Values.allCases.map(\.rawValue))
    }

    public static func integer(format: String = "int32", minimum: Int64? = nil, maximum: Int64? = nil) -> Schema {
        var schema = Schema(type: "integer")
        schema.format = format
        schema.minimum = minimum
        schema.maximum = maximum
        return schema
    }

    public static let boolean = Schema(type: "boolean")

    public static func array(
        of element: Schema, listMapKeys: [String] = [], minItems: Int? = nil, maxItems: Int? = nil
    ) -> Schema {
        var schema = Schema(type: "array")
        schema.items = [element]
        schema.minItems = minItems
        schema.maxItems = maxItems
        if !listMapKeys.isEmpty {
            schema.listType = "map"
            schema.listMapKeys = listMapKeys
        }
        return schema
    }

    /// A JSON object with arbitrary keys whose values follow `value` (a Go `map[string]T`).
    public static func map(of value: Schema) -> Schema {
        var schema = Schema(type: "object")
        schema.additionalProperties = [value]
        return schema
    }

    public static let stringMap = map(of: .string())

    /// A resource quantity as controller-gen writes it: an integer or a string of the quantity grammar.
    public static let quantity: Schema = {
        var schema = Schema()
        schema.intOrString = true
        schema.anyOf = [Schema(type: "integer"), Schema(type: "string")]
        schema.pattern = Quantity.pattern
        return schema
    }()

    /// A DNS-1123 label (a Kubernetes object name that becomes part of other names), at most `maxLength` long.
    public static func dnsLabel(maxLength: Int = 63) -> Schema {
        string(pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", minLength: 1, maxLength: maxLength)
    }

    /// A built-in Kubernetes type, inlined from the reference OpenAPI document by the generator.
    public static func kubernetes(_ definition: String) -> Schema {
        var schema = Schema()
        schema.kubernetesDefinition = definition
        return schema
    }

    /// The schema of a Swift type that describes itself.
    public static func of<Described: SchemaDescribed>(_: Described.Type) -> Schema {
        Described.schema
    }

    public func describing(_ text: String) -> Schema {
        var copy = self
        copy.description = text
        return copy
    }

    public func defaulting(to value: JSONValue) -> Schema {
        var copy = self
        copy.defaultValue = value
        return copy
    }

    /// The field may be set once: the API server rejects an update that changes it.
    public func immutable(message: String) -> Schema {
        var copy = self
        copy.validations.append(ValidationRule(rule: "self == oldSelf", message: message))
        return copy
    }
}

extension Quantity {
    /// The quantity grammar of `k8s.io/apimachinery/pkg/api/resource`, as CRD schemas state it.
    public static let pattern =
        #"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"#
}
