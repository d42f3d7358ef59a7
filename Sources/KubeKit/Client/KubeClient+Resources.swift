import Foundation
import NIOHTTP1

// Every verb exists once, generic over the body type: typed models and `JSONValue` both go through it, typed calls
// taking the descriptor from the model and dynamic calls from the caller.

extension KubeClient {
    // MARK: Dynamic access, by descriptor, to any kind as JSON

    public func get(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, subresource: String? = nil
    ) async throws -> JSONValue {
        try await performGet(resource, name: name, namespace: namespace, subresource: subresource)
    }

    /// One page of a list. `namespace` nil lists across all namespaces.
    public func list(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init()
    )
        async throws -> ObjectList<JSONValue>
    {
        try await performList(resource, namespace: namespace, options: options)
    }

    /// Every page of a list, following `continue` tokens; the result carries the last page's resourceVersion.
    public func listAll(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init()
    )
        async throws -> ObjectList<JSONValue>
    {
        try await performListAll(resource, namespace: namespace, options: options)
    }

    public func create(
        _ resource: ResourceDescriptor, _ object: JSONValue, namespace: String? = nil, options: WriteOptions = .init()
    ) async throws -> JSONValue {
        try await performCreate(resource, object, namespace: namespace, options: options)
    }

    /// Replaces the object. It must carry the `metadata.resourceVersion` it was read at; a stale one is a Conflict.
    public func update(
        _ resource: ResourceDescriptor, _ object: JSONValue, name: String, namespace: String? = nil,
        subresource: String? = nil, options: WriteOptions = .init()
    ) async throws -> JSONValue {
        try await performUpdate(
            resource, object, name: name, namespace: namespace, subresource: subresource, options: options)
    }

    public func patch(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, patch: Patch,
        subresource: String? = nil, options: WriteOptions = .init()
    ) async throws -> JSONValue {
        try await performPatch(
            resource, name: name, namespace: namespace, patch: patch, subresource: subresource, options: options)
    }

    /// Server-side apply: the server merges the fields this manager sets and records it as their owner. Without
    /// `force`, a field another manager owns with a different value is a Conflict naming it.
    public func apply(
        _ resource: ResourceDescriptor, _ object: JSONValue, name: String, namespace: String? = nil,
        fieldManager: String, force: Bool = false, subresource: String? = nil, dryRun: Bool = false
    ) async throws -> JSONValue {
        try await performApply(
            resource, object, name: name, namespace: namespace, fieldManager: fieldManager, force: force,
            subresource: subresource, dryRun: dryRun)
    }

    /// Deletes an object. Returns the object when the server keeps it for a while (finalizers, foreground
    /// deletion), nil when it answered with a Status because the object is already gone.
    @discardableResult
    public func delete(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, options: MetaV1.DeleteOptions? = nil
    ) async throws -> JSONValue? {
        try await performDelete(resource, name: name, namespace: namespace, options: options)
    }

    /// Deletes every object the selectors match in a namespace (or, for cluster-scoped kinds, the cluster).
    public func deleteCollection(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init(),
        deleteOptions: MetaV1.DeleteOptions? = nil
    ) async throws {
        try await performDeleteCollection(
            resource, namespace: namespace, options: options, deleteOptions: deleteOptions)
    }

    // MARK: Typed access

    public func get<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil
    ) async throws -> Object {
        try await performGet(Object.descriptor, name: name, namespace: namespace, subresource: nil)
    }

    public func list<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = .init()
    ) async throws -> ObjectList<Object> {
        try await performList(Object.descriptor, namespace: namespace, options: options)
    }

    public func listAll<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = .init()
    ) async throws -> ObjectList<Object> {
        try await performListAll(Object.descriptor, namespace: namespace, options: options)
    }

    public func create<Object: KubernetesObject>(
        _ object: Object, options: WriteOptions = .init()
    ) async throws
        -> Object
    {
        try await performCreate(Object.descriptor, object, namespace: object.metadata?.namespace, options: options)
    }

    public func update<Object: KubernetesObject>(
        _ object: Object, options: WriteOptions = .init()
    ) async throws
        -> Object
    {
        try await performUpdate(
            Object.descriptor, object, name: try requireName(object), namespace: object.metadata?.namespace,
            options: options)
    }

    /// Writes the object's status through the status subresource; the rest of the object is ignored there.
    public func updateStatus<Object: KubernetesObject>(
        _ object: Object, options: WriteOptions = .init()
    )
        async throws -> Object
    {
        try await performUpdate(
            Object.descriptor, object, name: try requireName(object), namespace: object.metadata?.namespace,
            subresource: "status", options: options)
    }

    public func patch<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil, patch: Patch, subresource: String? = nil,
        options: WriteOptions = .init()
    ) async throws -> Object {
        try await performPatch(
            Object.descriptor, name: name, namespace: namespace, patch: patch, subresource: subresource,
            options: options)
    }

    public func apply<Object: KubernetesObject>(
        _ object: Object, fieldManager: String, force: Bool = false, subresource: String? = nil, dryRun: Bool = false
    ) async throws -> Object {
        try await performApply(
            Object.descriptor, object, name: try requireName(object), namespace: object.metadata?.namespace,
            fieldManager: fieldManager, force: force, subresource: subresource, dryRun: dryRun)
    }

    @discardableResult
    public func delete<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil,
        propagationPolicy: PropagationPolicy? = nil, preconditions: MetaV1.Preconditions? = nil,
        gracePeriodSeconds: Int64? = nil
    ) async throws -> Object? {
        let options = MetaV1.DeleteOptions(
            gracePeriodSeconds: gracePeriodSeconds, preconditions: preconditions,
            propagationPolicy: propagationPolicy?.rawValue)
        return try await performDelete(Object.descriptor, name: name, namespace: namespace, options: options)
    }

    public func deleteCollection<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = .init(),
        propagationPolicy: PropagationPolicy? = nil
    ) async throws {
        try await performDeleteCollection(
            Object.descriptor, namespace: namespace, options: options,
            deleteOptions: MetaV1.DeleteOptions(propagationPolicy: propagationPolicy?.rawValue))
    }

    // MARK: One implementation per verb, generic over the body type

    func performGet<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, subresource: String? = nil
    ) async throws -> Object {
        let path = try objectPath(resource, namespace: namespace, name: name, subresource: subresource)
        return try await decode(Object.self, from: send(Request(method: .GET, path: path)), what: resource.kind)
    }

    /// One page of a list. `namespace` nil lists across all namespaces.
    func performList<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init()
    ) async throws -> ObjectList<Object> {
        let path = collectionPath(resource, namespace: namespace)
        let response = try await send(Request(method: .GET, path: path, query: options.query))
        return try decode(ObjectList<Object>.self, from: response, what: "\(resource.kind)List")
    }

    /// Every page of a list, following `continue` tokens, with the resourceVersion of the last page.
    func performListAll<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init()
    ) async throws -> ObjectList<Object> {
        var options = options
        var page: ObjectList<Object> = try await performList(resource, namespace: namespace, options: options) as ObjectList<Object>
        var items = page.items
        while let token = page.continueToken {
            options.continueToken = token
            page = try await performList(resource, namespace: namespace, options: options) as ObjectList<Object>
            items += page.items
        }
        page.items = items
        return page
    }

    func performCreate<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, _ object: Object, namespace: String? = nil, options: WriteOptions = .init()
    ) async throws -> Object {
        let path = collectionPath(resource, namespace: try namespaceForWrite(resource, namespace))
        let request = Request(method: .POST, path: path, query: options.query, body: try encode(object))
        return try await decode(Object.self, from: send(request), what: resource.kind)
    }

    /// Replaces the object. It must carry the `metadata.resourceVersion` it was read at; a stale one is a Conflict.
    func performUpdate<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, _ object: Object, name: String, namespace: String? = nil,
        subresource: String? = nil, options: WriteOptions = .init()
    ) async throws -> Object {
        let path = try objectPath(resource, namespace: namespace, name: name, subresource: subresource)
        let request = Request(method: .PUT, path: path, query: options.query, body: try encode(object))
        return try await decode(Object.self, from: send(request), what: resource.kind)
    }

    func performPatch<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, patch: Patch,
        subresource: String? = nil, options: WriteOptions = .init()
    ) async throws -> Object {
        let path = try objectPath(resource, namespace: namespace, name: name, subresource: subresource)
        let request = Request(
            method: .PATCH, path: path, query: options.query, body: patch.body(), contentType: patch.contentType)
        return try await decode(Object.self, from: send(request), what: resource.kind)
    }

    /// Server-side apply: the server merges the fields this manager sets and records it as their owner. Without
    /// `force`, a field another manager owns with a different value is a Conflict naming it.
    func performApply<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, _ object: Object, name: String, namespace: String? = nil,
        fieldManager: String, force: Bool = false, subresource: String? = nil, dryRun: Bool = false
    ) async throws -> Object {
        let path = try objectPath(resource, namespace: namespace, name: name, subresource: subresource)
        var query: [(String, String)] = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        if dryRun { query.append(("dryRun", "All")) }
        // JSON is YAML, so the apply content type takes a JSON body.
        let request = Request(
            method: .PATCH, path: path, query: query, body: try encode(object),
            contentType: "application/apply-patch+yaml")
        return try await decode(Object.self, from: send(request), what: resource.kind)
    }

    /// Deletes an object. Returns the object when the server keeps it for a while (finalizers, foreground
    /// deletion), nil when it answered with a Status because the object is already gone.
    func performDelete<Object: Codable & Sendable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, options: MetaV1.DeleteOptions? = nil
    ) async throws -> Object? {
        let path = try objectPath(resource, namespace: namespace, name: name, subresource: nil)
        let body = try encode(options ?? MetaV1.DeleteOptions())
        let response = try await send(Request(method: .DELETE, path: path, body: body))
        return try decodeUnlessStatus(Object.self, from: response, what: resource.kind)
    }

    /// Deletes every object the selectors match in a namespace (or, for cluster-scoped kinds, the cluster).
    func performDeleteCollection(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = .init(),
        deleteOptions: MetaV1.DeleteOptions? = nil
    ) async throws {
        let path = collectionPath(resource, namespace: try namespaceForWrite(resource, namespace))
        let body = try encode(deleteOptions ?? MetaV1.DeleteOptions())
        _ = try await send(Request(method: .DELETE, path: path, query: options.query, body: body))
    }

    // MARK: Paths and bodies

    func collectionPath(_ resource: ResourceDescriptor, namespace: String?) -> String {
        if resource.namespaced, let namespace {
            return "\(resource.groupVersionPath)/namespaces/\(Self.escape(namespace))/\(resource.plural)"
        }
        return "\(resource.groupVersionPath)/\(resource.plural)"
    }

    func objectPath(
        _ resource: ResourceDescriptor, namespace: String?, name: String, subresource: String?
    ) throws
        -> String
    {
        guard !name.isEmpty else {
            throw KubeClientError.invalidRequest("a \(resource.kind) call needs a name: set metadata.name")
        }
        var path = collectionPath(resource, namespace: try namespaceForWrite(resource, namespace))
        path += "/" + Self.escape(name)
        if let subresource { path += "/" + subresource }
        return path
    }

    /// A namespaced object named without a namespace lives in the client's default namespace, as with kubectl.
    func namespaceForWrite(_ resource: ResourceDescriptor, _ namespace: String?) throws -> String? {
        guard resource.namespaced else { return nil }
        if let namespace, !namespace.isEmpty { return namespace }
        return defaultNamespace
    }

    private func requireName<Object: KubernetesObject>(_ object: Object) throws -> String {
        guard let name = object.metadata?.name, !name.isEmpty else {
            throw KubeClientError.invalidRequest("a \(Object.descriptor.kind) needs metadata.name for this call")
        }
        return name
    }

    func encode<Value: Encodable>(_ value: Value) throws -> Data {
        // What the reconcilers apply is JSON already: written directly, not through Codable.
        if let json = value as? JSONValue { return json.jsonData(sortedKeys: false) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    func decode<Value: Decodable>(_ type: Value.Type, from response: Response, what: String) throws -> Value {
        do {
            // An answer read as JSON (what the reconcilers apply and patch) goes through the one-pass parser: the
            // Codable path tries each kind of value in turn and throws for every miss.
            if Value.self == JSONValue.self, let value = try JSONValue.parse(Data(response.body.readableBytesView)) as? Value { return value }
            return try JSONDecoder().decode(Value.self, from: Data(response.body.readableBytesView))
        } catch let error as DecodingError {
            throw KubeClientError.decoding(what: what, reason: error.fieldDescription)
        } catch let error as JSONSyntaxError {
            throw KubeClientError.decoding(what: what, reason: error.description)
        }
    }

    private func decodeUnlessStatus<Value: Decodable>(
        _ type: Value.Type, from response: Response, what: String
    )
        throws -> Value?
    {
        let data = Data(response.body.readableBytesView)
        if let probe = try? JSONDecoder().decode(KindProbe.self, from: data), probe.kind == "Status" { return nil }
        return try decode(Value.self, from: response, what: what)
    }
}

/// Reads only an answer's `kind`, to tell a Status from an object.
private struct KindProbe: Decodable {
    var kind: String?
}
