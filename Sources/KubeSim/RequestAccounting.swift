/// What a request did, as the API server's audit log would name it: a verb (`get`, `list`, `watch`, `create`,
/// `update`, `patch`, `delete`, `deletecollection`, or the HTTP method for non-resource paths) and a resource
/// (`pods`, `statefulsets.apps`, `pods/status`, or the path for non-resource requests such as `/version`).
public struct RequestKey: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var resource: String

    public init(verb: String, resource: String) {
        self.verb = verb
        self.resource = resource
    }

    /// Whether the request could change state.
    public var isWrite: Bool {
        ["create", "update", "patch", "delete", "deletecollection"].contains(verb)
    }

    public var description: String { "\(verb) \(resource)" }
}

/// Counts requests by verb and resource, so tests can assert what a client did ("no writes while idle").
actor RequestCounter {
    private var counts: [RequestKey: Int] = [:]

    func record(_ key: RequestKey) {
        counts[key, default: 0] += 1
    }

    func snapshot() -> [RequestKey: Int] { counts }

    func reset() { counts.removeAll() }
}
