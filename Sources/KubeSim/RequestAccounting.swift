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

/// One write the server answered, as an audit log's entry names it: who sent it, what it was, how it ended, and
/// when the answer was ready (so a test can tell whose writes took effect in which interval).
public struct WriteRecord: Sendable, Hashable, CustomStringConvertible {
    public var userAgent: String
    public var user: String
    public var key: RequestKey
    public var path: String
    public var code: Int
    public var completed: ContinuousClock.Instant

    public var description: String { "\(userAgent) (\(user)) \(key) \(path) -> \(code)" }
}

/// Counts requests by verb and resource, so tests can assert what a client did ("no writes while idle"), and keeps
/// the latest writes in order.
actor RequestCounter {
    /// Enough for every write of a test or a benchmark's run; older entries go first.
    static let writeLogCapacity = 100_000

    private var counts: [RequestKey: Int] = [:]
    private var writes: [WriteRecord] = []

    func record(_ key: RequestKey) {
        counts[key, default: 0] += 1
    }

    func record(_ write: WriteRecord) {
        if writes.count >= Self.writeLogCapacity { writes.removeFirst(writes.count / 10) }
        writes.append(write)
    }

    func snapshot() -> [RequestKey: Int] { counts }

    func writeLog() -> [WriteRecord] { writes }

    func reset() {
        counts.removeAll()
        writes.removeAll()
    }
}
