/// Options of a list call: selectors, pagination and the resourceVersion to read at.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// At most this many items per page; the answer's `metadata.continue` fetches the next.
    public var limit: Int?
    public var continueToken: String?
    /// "0" reads from the server's cache; nil reads the latest.
    public var resourceVersion: String?
    public var resourceVersionMatch: String?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil, resourceVersionMatch: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
    }

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { query.append(("resourceVersionMatch", resourceVersionMatch)) }
        return query
    }
}

/// Options of a watch: where to start, selectors, bookmarks and how long the server keeps the stream open.
public struct WatchOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Events after this version; nil starts with a synthetic ADDED for every existing object.
    public var resourceVersion: String?
    public var allowWatchBookmarks: Bool
    /// The server closes the stream after this long; informers reconnect from the last version they saw.
    public var timeoutSeconds: Int?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        allowWatchBookmarks: Bool = true, timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
    }

    var query: [(String, String)] {
        var query: [(String, String)] = [("watch", "true")]
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if allowWatchBookmarks { query.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        return query
    }
}

/// Options of create, update and patch calls.
public struct WriteOptions: Sendable, Hashable {
    /// Who owns the fields written, in `metadata.managedFields`.
    public var fieldManager: String?
    /// Validate and default without storing anything.
    public var dryRun: Bool
    /// "Strict" rejects unknown fields, "Warn" (the server's default) only warns, "Ignore" drops them.
    public var fieldValidation: String?

    public init(fieldManager: String? = nil, dryRun: Bool = false, fieldValidation: String? = nil) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
    }

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        if dryRun { query.append(("dryRun", "All")) }
        if let fieldValidation { query.append(("fieldValidation", fieldValidation)) }
        return query
    }
}

/// How the dependents of a deleted object are treated.
public enum PropagationPolicy: String, Sendable, Hashable, Codable {
    /// The object goes at once; the garbage collector removes its dependents afterwards.
    case background = "Background"
    /// The object stays, with a finalizer, until its blocking dependents are gone.
    case foreground = "Foreground"
    /// Dependents are kept and lose their owner reference.
    case orphan = "Orphan"
}
