/// The type of a generated property.
indirect enum PropertyType: Hashable, Sendable {
    /// A Swift standard type: `String`, `Int32`, `Int64`, `Double`, `Bool`.
    case standard(String)
    /// A hand-written KubeKit type (`IntOrString`, `MetaV1.Time`, `JSONValue`, …).
    case handWritten(String)
    /// A generated struct: its definition and Swift name.
    case generated(definition: String, typeName: String)
    case array(PropertyType)
    case map(PropertyType)

    var swiftType: String {
        switch self {
        case .standard(let name), .handWritten(let name), .generated(_, let name): name
        case .array(let element): "[\(element.swiftType)]"
        case .map(let value): "[String: \(value.swiftType)]"
        }
    }

    /// The generated struct stored inline (not behind an array or dictionary, which live on the heap).
    var inlineDefinition: String? {
        if case .generated(let definition, _) = self { return definition }
        return nil
    }
}

struct PropertyModel: Hashable, Sendable {
    let jsonName: String
    let swiftName: String
    let type: PropertyType
    let isRequired: Bool
    /// Why the property is stored in an `Indirect` box, if it is.
    var box: Box?

    enum Box: Hashable, Sendable {
        /// The property's type leads back to the struct that holds it.
        case recursive
        /// An optional struct in a large struct: absent, it costs a pointer instead of its whole size.
        case optionalInLargeStruct
    }

    var isBoxed: Bool { box != nil }

    /// The stored property's name: the property itself, or the box behind it.
    var storageName: String { isBoxed ? "_" + swiftName : swiftName }
}

struct StructModel: Hashable, Sendable {
    let definition: String
    let typeName: SwiftNaming.TypeName
    var properties: [PropertyModel]
    /// Initializer defaults by JSON name: `apiVersion` and `kind` of a kind with one group-version-kind.
    let defaultValues: [String: String]

    var needsCodingKeys: Bool { properties.contains { $0.storageName != $0.jsonName } }
}

struct ResourceKind: Sendable {
    let typeName: String
    let kind: GroupVersionKind
    let plural: String
    let namespaced: Bool
}

/// The structs to generate: the roots and every definition they reference, with recursion broken by boxes.
struct ModelSet: Sendable {
    private(set) var structs: [String: StructModel] = [:]
    let roots: [String]

    init(document: OpenAPIDocument, roots: [String]) throws {
        self.roots = roots
        var pending = roots.map { (definition: $0, referencedFrom: "the model roots") }
        while let (definition, origin) = pending.popLast() {
            guard structs[definition] == nil, SwiftNaming.handWrittenTypes[definition] == nil else { continue }
            guard let schema = document.definitions[definition] else {
                throw ModelGenerationError.missingDefinition(definition, referencedFrom: origin)
            }
            let model = try Self.structModel(definition: definition, schema: schema)
            structs[definition] = model
            for property in model.properties {
                for referenced in property.type.referencedDefinitions {
                    pending.append((referenced, "\(definition).\(property.jsonName)"))
                }
            }
        }
        try checkNamespaces()
        boxRecursiveProperties()
        boxOptionalStructsOfLargeStructs()
    }

    /// Generated structs grouped by output file (one per group-version namespace), each sorted by name.
    func structsByFile() -> [(String, [StructModel])] {
        let grouped = Dictionary(grouping: structs.values) { model in
            (model.typeName.namespace ?? model.typeName.name) + ".swift"
        }
        return grouped.map { file, models in (file, models.sorted { $0.typeName.name < $1.typeName.name }) }
    }

    /// The roots that are API resources (one group-version-kind and `ObjectMeta` metadata), with the plural and
    /// scope of the path that creates them (`/api/v1/namespaces/{namespace}/pods` → `pods`, namespaced).
    func resourceKinds(document: OpenAPIDocument) throws -> [ResourceKind] {
        var resources: [ResourceKind] = []
        for root in roots {
            guard let schema = document.definitions[root], let model = structs[root], Self.isResourceKind(schema),
                let kind = schema.groupVersionKinds.first
            else { continue }
            let createPaths = document.paths.filter { path, item in
                item.post?.action == "post" && item.post?.groupVersionKind == kind && !path.hasSuffix("}")
                    && !path.contains("{name}")
            }.keys.sorted()
            guard let path = createPaths.first, let plural = path.split(separator: "/").last else {
                throw ModelGenerationError.noResourcePath(kind: "\(kind.apiVersion) \(kind.kind)")
            }
            resources.append(
                ResourceKind(
                    typeName: model.typeName.qualified, kind: kind, plural: String(plural),
                    namespaced: path.contains("/namespaces/{namespace}/")))
        }
        return resources.sorted { $0.typeName < $1.typeName }
    }

    // MARK: Building

    /// A kind stored as a resource: one group-version-kind and object metadata. Its `metadata` is optional even where
    /// the schema requires it (core/v1 Event), so that every resource kind fits `KubernetesObject` the same way; the
    /// API server fills metadata in on every object it returns.
    static func isResourceKind(_ schema: Schema) -> Bool {
        schema.groupVersionKinds.count == 1
            && schema.properties["metadata"]?.reference == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }

    private static func structModel(definition: String, schema: Schema) throws -> StructModel {
        var properties: [PropertyModel] = []
        var swiftNames: Set<String> = []
        for (key, propertySchema) in schema.properties.sorted(by: { $0.key < $1.key }) {
            let swiftName = try SwiftNaming.propertyName(forJSONKey: key)
            guard swiftNames.insert(swiftName).inserted else {
                throw ModelGenerationError.propertyNameClash(definition: definition, name: swiftName)
            }
            properties.append(
                PropertyModel(
                    jsonName: key, swiftName: swiftName,
                    type: try propertyType(propertySchema, definition: definition, property: key),
                    isRequired: schema.required.contains(key) && !(key == "metadata" && Self.isResourceKind(schema))))
        }
        var defaults: [String: String] = [:]
        if schema.groupVersionKinds.count == 1, let kind = schema.groupVersionKinds.first {
            for property in properties where !property.isRequired && property.type == .standard("String") {
                if property.jsonName == "apiVersion" { defaults["apiVersion"] = kind.apiVersion }
                if property.jsonName == "kind" { defaults["kind"] = kind.kind }
            }
        }
        return StructModel(
            definition: definition, typeName: try SwiftNaming.typeName(forDefinition: definition),
            properties: properties, defaultValues: defaults)
    }

    private static func propertyType(_ schema: Schema, definition: String, property: String) throws -> PropertyType {
        if let reference = schema.reference {
            if let handWritten = SwiftNaming.handWrittenTypes[reference] { return .handWritten(handWritten) }
            return .generated(
                definition: reference, typeName: try SwiftNaming.typeName(forDefinition: reference).qualified)
        }
        switch (schema.type, schema.format) {
        case ("string", _):
            // `byte` strings stay base64 text, as the API sends them.
            return .standard("String")
        case ("integer", "int32"): return .standard("Int32")
        case ("integer", _): return .standard("Int64")
        case ("number", _): return .standard("Double")
        case ("boolean", _): return .standard("Bool")
        case ("array", _):
            guard let items = schema.items else {
                throw ModelGenerationError.unsupportedSchema(
                    definition: definition, property: property, detail: "array without items")
            }
            return .array(try propertyType(items, definition: definition, property: property))
        case ("object", _), (nil, _):
            if let values = schema.additionalProperties {
                return .map(try propertyType(values, definition: definition, property: property))
            }
            // An object without properties or a schema without a type holds arbitrary JSON.
            return .handWritten("JSONValue")
        case (let type?, _):
            throw ModelGenerationError.unsupportedSchema(
                definition: definition, property: property, detail: "unknown type \(type)")
        }
    }

    private func checkNamespaces() throws {
        var prefixesByNamespace: [String: Set<String>] = [:]
        for model in structs.values {
            guard let namespace = model.typeName.namespace else { continue }
            let prefix = model.definition.split(separator: ".").dropLast().joined(separator: ".")
            prefixesByNamespace[namespace, default: []].insert(prefix)
        }
        for (namespace, prefixes) in prefixesByNamespace where prefixes.count > 1 {
            throw ModelGenerationError.namespaceClash(namespace: namespace, definitions: prefixes.sorted())
        }
    }

    /// A struct stored inline in itself has infinite size. Box every inline property whose struct type is, or
    /// reaches through further inline properties, the struct that holds it (`JSONSchemaProps.not`). Arrays and
    /// dictionaries already store their elements on the heap and need no box.
    private mutating func boxRecursiveProperties() {
        let inlineEdges = structs.mapValues { model in Set(model.properties.compactMap(\.type.inlineDefinition)) }
        func reaches(_ start: String, _ target: String) -> Bool {
            var visited: Set<String> = []
            var stack = [start]
            while let current = stack.popLast() {
                if current == target { return true }
                guard visited.insert(current).inserted else { continue }
                stack.append(contentsOf: inlineEdges[current] ?? [])
            }
            return false
        }
        for definition in structs.keys.sorted() {
            guard var model = structs[definition] else { continue }
            for index in model.properties.indices {
                if let referenced = model.properties[index].type.inlineDefinition, reaches(referenced, definition) {
                    model.properties[index].box = .recursive
                }
            }
            structs[definition] = model
        }
    }
}

extension ModelSet {
    /// A struct whose fields take more than this many bytes inline boxes its optional struct properties.
    static let inlineSizeLimit = 128

    /// Swift stores an optional struct inline, absent or not, so a `Volume` (some thirty optional sources, one of them
    /// set) took 2,040 bytes and a cached pod template tens of kilobytes, most of it for fields the object does not
    /// have. Boxed, an absent field costs a pointer. Sizes are estimated from the fields, inner structs first.
    private mutating func boxOptionalStructsOfLargeStructs() {
        var sizes: [String: Int] = [:]
        func size(of definition: String) -> Int {
            if let known = sizes[definition] { return known }
            guard var model = structs[definition] else { return 16 }
            var size = model.properties.reduce(0) { $0 + inlineSize($1) }
            if size > Self.inlineSizeLimit {
                for index in model.properties.indices
                where !model.properties[index].isRequired && !model.properties[index].isBoxed
                    && model.properties[index].type.inlineDefinition != nil
                {
                    model.properties[index].box = .optionalInLargeStruct
                }
                structs[definition] = model
                size = model.properties.reduce(0) { $0 + inlineSize($1) }
            }
            sizes[definition] = size
            return size
        }
        func inlineSize(_ property: PropertyModel) -> Int {
            if property.isBoxed { return 8 }
            switch property.type {
            case .standard("Bool"): return 1
            case .standard("Int32"): return 8
            case .standard, .handWritten: return 16
            case .array, .map: return 8
            case .generated(let definition, _): return size(of: definition) + (property.isRequired ? 0 : 1)
            }
        }
        for definition in structs.keys.sorted() { _ = size(of: definition) }
    }
}

extension PropertyType {
    /// The generated definitions this type refers to, at any depth of arrays and maps.
    var referencedDefinitions: [String] {
        switch self {
        case .standard, .handWritten: []
        case .generated(let definition, _): [definition]
        case .array(let element): element.referencedDefinitions
        case .map(let value): value.referencedDefinitions
        }
    }
}
