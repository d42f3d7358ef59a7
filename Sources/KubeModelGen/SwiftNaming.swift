/// How OpenAPI definition and property names become Swift names.
public enum SwiftNaming {
    /// Definitions that are not generated: they have no properties in the document (their JSON form is a string, a
    /// number or anything at all) and are modelled by hand in `Sources/KubeKit/Models/`.
    public static let handWrittenTypes: [String: String] = [
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
        "io.k8s.apimachinery.pkg.api.resource.Quantity": "Quantity",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "MetaV1.Time",
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "MetaV1.MicroTime",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "JSONValue",
        "io.k8s.apimachinery.pkg.runtime.RawExtension": "JSONValue",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": "JSONValue",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray":
            "ApiextensionsV1.JSONSchemaPropsOrArray",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool":
            "ApiextensionsV1.JSONSchemaPropsOrBool",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray":
            "ApiextensionsV1.JSONSchemaPropsOrStringArray",
    ]

    /// `version.Info` sits outside any API group; it gets a top-level name.
    static let versionInfoDefinition = "io.k8s.apimachinery.pkg.version.Info"

    /// Where a generated definition goes: its namespace enum (`CoreV1`), or nil for a top-level type.
    public struct TypeName: Hashable, Sendable {
        public let namespace: String?
        public let name: String

        public var qualified: String { namespace.map { "\($0).\(name)" } ?? name }
    }

    /// `io.k8s.api.core.v1.Pod` → `CoreV1.Pod`: the segment before the version names the group, so
    /// `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` → `MetaV1.ObjectMeta` and
    /// `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps` → `ApiextensionsV1.JSONSchemaProps`.
    public static func typeName(forDefinition definition: String) throws -> TypeName {
        if definition == versionInfoDefinition { return TypeName(namespace: nil, name: "VersionInfo") }
        let segments = definition.split(separator: ".").map(String.init)
        guard segments.count >= 3, isAPIVersion(segments[segments.count - 2]) else {
            throw ModelGenerationError.unnamedDefinition(definition)
        }
        let group = segments[segments.count - 3]
        let version = segments[segments.count - 2]
        return TypeName(namespace: upperCamelCase(group) + upperCamelCase(version), name: segments[segments.count - 1])
    }

    /// `v1`, `v2`, `v1beta1`, `v2alpha3`.
    static func isAPIVersion(_ segment: String) -> Bool {
        guard segment.first == "v" else { return false }
        let rest = segment.dropFirst()
        let major = rest.prefix(while: \.isASCIIDigit)
        guard !major.isEmpty else { return false }
        let qualifier = rest.dropFirst(major.count)
        if qualifier.isEmpty { return true }
        for stage in ["alpha", "beta"] where qualifier.hasPrefix(stage) {
            let number = qualifier.dropFirst(stage.count)
            return !number.isEmpty && number.allSatisfy(\.isASCIIDigit)
        }
        return false
    }

    /// The Swift identifier for a JSON property name: the name itself when it is an identifier (backticked by the
    /// caller when it is a keyword), otherwise lower camel case of its alphanumeric words
    /// (`$ref` → `ref`, `x-kubernetes-preserve-unknown-fields` → `xKubernetesPreserveUnknownFields`).
    public static func propertyName(forJSONKey key: String) throws -> String {
        if isIdentifier(key) { return key }
        let words = key.split(whereSeparator: { !($0.isASCIILetter || $0.isASCIIDigit) }).map(String.init)
        guard let first = words.first else { throw ModelGenerationError.unnamedProperty(key) }
        let name = first.lowercased() + words.dropFirst().map(upperCamelCase).joined()
        guard isIdentifier(name) else { throw ModelGenerationError.unnamedProperty(key) }
        return name
    }

    /// The identifier as it must be written in a declaration: keywords in backticks.
    public static func declaredName(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isASCIILetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }

    /// `apiextensions` → `Apiextensions`, `my-group` → `MyGroup`.
    static func upperCamelCase(_ text: String) -> String {
        text.split(whereSeparator: { !($0.isASCIILetter || $0.isASCIIDigit) })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined()
    }

    /// Words that cannot be a stored property's name without backticks.
    static let keywords: Set<String> = [
        "Any", "Protocol", "Self", "Type", "as", "associatedtype", "break", "case", "catch", "class", "continue",
        "default", "defer", "deinit", "do", "else", "enum", "extension", "fallthrough", "false", "fileprivate", "for",
        "func", "guard", "if", "import", "in", "init", "inout", "internal", "is", "let", "nil", "open", "operator",
        "precedencegroup", "private", "protocol", "public", "repeat", "rethrows", "return", "self", "static", "struct",
        "subscript", "super", "switch", "throw", "throws", "true", "try", "typealias", "var", "where", "while",
    ]
}

extension Character {
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

public enum ModelGenerationError: Error, CustomStringConvertible, Equatable {
    case missingDefinition(String, referencedFrom: String)
    case unnamedDefinition(String)
    case unnamedProperty(String)
    case propertyNameClash(definition: String, name: String)
    case namespaceClash(namespace: String, definitions: [String])
    case unsupportedSchema(definition: String, property: String, detail: String)
    case noResourcePath(kind: String)

    public var description: String {
        switch self {
        case .missingDefinition(let name, let origin): "definition \(name), referenced from \(origin), is not in the document"
        case .unnamedDefinition(let name): "no Swift name for definition \(name): expected <group>.<version>.<Kind>"
        case .unnamedProperty(let key): "no Swift identifier for property \"\(key)\""
        case .propertyNameClash(let definition, let name): "two properties of \(definition) become \(name)"
        case .namespaceClash(let namespace, let definitions):
            "definitions from different groups share the namespace \(namespace): \(definitions.joined(separator: ", "))"
        case .unsupportedSchema(let definition, let property, let detail): "\(definition).\(property): \(detail)"
        case .noResourcePath(let kind): "no create (post) path in the document for kind \(kind)"
        }
    }
}
