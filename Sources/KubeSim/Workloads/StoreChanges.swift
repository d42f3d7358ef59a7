import KubeKit

/// What changed in a controller's watched resources since its last pass, as a work queue of objects: a controller that
/// can tell which of its objects a change touches looks at those, instead of the whole store.
struct StoreChanges: Sendable {
    /// One changed object in the state its latest event carried (a deleted object as it last was).
    struct Change: Sendable {
        var object: JSONValue
        var deleted: Bool
    }

    /// Whether to look at every object: the first pass.
    private(set) var everything: Bool
    /// Whether a delay the controller asked for ran out: it looks again at what it was waiting on.
    private(set) var isDue = false
    private var changes: [StorageKey: [ObjectName: Change]] = [:]

    static let everything = StoreChanges(everything: true)
    static let nothing = StoreChanges(everything: false)

    private init(everything: Bool) {
        self.everything = everything
    }

    var isEmpty: Bool { !everything && !isDue && changes.isEmpty }

    /// The changed objects of one resource, in key order.
    func changed(_ key: StorageKey) -> [Change] {
        (changes[key] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    /// Folds in one watch event; a later event of the same object replaces an earlier one.
    mutating func record(_ key: StorageKey, type: String, object: JSONValue) {
        // A pass over everything looks at every object anyway.
        guard !everything, let name = object.objectName else { return }
        changes[key, default: [:]][name] = Change(object: object, deleted: type == "DELETED")
    }

    mutating func markDue() {
        isDue = true
    }
}
