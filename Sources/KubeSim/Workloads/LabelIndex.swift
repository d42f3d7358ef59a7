/// Object names by namespace and label pair, kept up to date as the objects change, so a controller finds the pods a
/// selector matches without walking every pod.
struct LabelIndex {
    private var names: [String: Set<ObjectName>] = [:]
    private var labels: [ObjectName: [String: String]] = [:]

    /// Records the labels an object now has (nil: it is gone); returns the ones it had before.
    @discardableResult
    mutating func set(_ name: ObjectName, labels new: [String: String]?) -> [String: String]? {
        let old = labels[name]
        guard old != new else { return old }
        for (label, value) in old ?? [:] {
            let key = Self.key(name.namespace, label, value)
            names[key]?.remove(name)
            if names[key]?.isEmpty == true { names[key] = nil }
        }
        for (label, value) in new ?? [:] { names[Self.key(name.namespace, label, value), default: []].insert(name) }
        labels[name] = new
        return old
    }

    func labels(of name: ObjectName) -> [String: String]? { labels[name] }

    /// The names in a namespace whose labels hold every pair of `selector`: the holders of its rarest pair, checked.
    func names(in namespace: String, matching selector: [String: String]) -> [ObjectName] {
        let candidates = selector.map { names[Self.key(namespace, $0.key, $0.value)] ?? [] }.min { $0.count < $1.count } ?? []
        return candidates.filter { name in labels[name].map { Self.holds($0, selector) } ?? false }.sorted()
    }

    /// How many objects of a namespace carry a label pair.
    func count(in namespace: String, _ label: String, _ value: String) -> Int {
        names[Self.key(namespace, label, value)]?.count ?? 0
    }

    /// The names carrying any of these pairs in a namespace.
    func names(in namespace: String, carryingAnyOf pairs: [String: String]) -> Set<ObjectName> {
        pairs.reduce(into: Set<ObjectName>()) { found, pair in found.formUnion(names[Self.key(namespace, pair.key, pair.value)] ?? []) }
    }

    mutating func removeAll() {
        names = [:]
        labels = [:]
    }

    static func holds(_ labels: [String: String], _ selector: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }

    private static func key(_ namespace: String, _ label: String, _ value: String) -> String {
        namespace + "\u{0}" + label + "=" + value
    }
}

/// Services by one pair of their selector, so the Services a pod's change concerns are found from its labels: a Service
/// is filed under the pair of its selector the fewest Services shared when it was filed, so a pair every Service
/// selects on (`managed-by`) does not make each lookup return them all.
struct SelectorIndex {
    private var filed = LabelIndex()
    private var selectors: [ObjectName: [String: String]] = [:]

    /// Records a Service's selector (nil or empty: it selects nothing, or is gone).
    mutating func set(_ name: ObjectName, selector: [String: String]?) {
        let selector = selector?.isEmpty == true ? nil : selector
        guard selectors[name] != selector else { return }
        selectors[name] = selector
        let pair = selector?.min { sharing($0, in: name.namespace) < sharing($1, in: name.namespace) }
        filed.set(name, labels: pair.map { [$0.key: $0.value] })
    }

    /// How many Services are filed under a pair, then the label: the order a Service's filing pair is chosen in.
    private func sharing(_ pair: (key: String, value: String), in namespace: String) -> (Int, String) {
        (filed.count(in: namespace, pair.key, pair.value), pair.key)
    }

    func selector(of name: ObjectName) -> [String: String]? { selectors[name] }

    /// The Services whose selector these labels satisfy.
    func services(in namespace: String, selecting labels: [String: String]) -> Set<ObjectName> {
        filed.names(in: namespace, carryingAnyOf: labels).filter { selectors[$0].map { LabelIndex.holds(labels, $0) } ?? false }
    }

    mutating func removeAll() {
        filed.removeAll()
        selectors = [:]
    }
}
