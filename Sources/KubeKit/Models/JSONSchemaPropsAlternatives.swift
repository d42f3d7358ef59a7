// The three places where an apiextensions schema accepts one of two JSON shapes. The OpenAPI document declares
// them as empty definitions; their shapes come from the Go types' custom (un)marshalling.

extension ApiextensionsV1 {
    /// `items`: one schema for every element, or one schema per position (a JSON array).
    public indirect enum JSONSchemaPropsOrArray: Sendable, Hashable, Codable {
        case schema(JSONSchemaProps)
        case schemas([JSONSchemaProps])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            // Looking at the shape first keeps a schema's own decoding error from being masked.
            if (try? container.decode([JSONValue].self)) != nil {
                self = .schemas(try container.decode([JSONSchemaProps].self))
            } else {
                self = .schema(try container.decode(JSONSchemaProps.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .schema(let schema): try container.encode(schema)
            case .schemas(let schemas): try container.encode(schemas)
            }
        }
    }

    /// `additionalProperties` and `additionalItems`: `true`/`false`, or a schema the values must match.
    public indirect enum JSONSchemaPropsOrBool: Sendable, Hashable, Codable {
        case allows(Bool)
        case schema(JSONSchemaProps)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let allows = try? container.decode(Bool.self) {
                self = .allows(allows)
            } else {
                self = .schema(try container.decode(JSONSchemaProps.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .allows(let allows): try container.encode(allows)
            case .schema(let schema): try container.encode(schema)
            }
        }
    }

    /// A `dependencies` entry: a schema the object must also match, or the names of properties it must also have.
    public indirect enum JSONSchemaPropsOrStringArray: Sendable, Hashable, Codable {
        case schema(JSONSchemaProps)
        case propertyNames([String])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let names = try? container.decode([String].self) {
                self = .propertyNames(names)
            } else {
                self = .schema(try container.decode(JSONSchemaProps.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .schema(let schema): try container.encode(schema)
            case .propertyNames(let names): try container.encode(names)
            }
        }
    }
}
