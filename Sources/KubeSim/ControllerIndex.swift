import KubeKit

/// Pods by the uid of their managing controller ("" for pods with none), kept up to date by every commit, as
/// kube-controller-manager's informers index them: a workload controller finds the pods of one set, or the orphans it
/// may adopt, without walking every pod of the cluster.
struct ControllerIndex {
    private var names: [String: Set<ObjectName>] = [:]

    /// Moves `name` from the controller of `old` to that of `new` (nil: absent).
    mutating func update(_ name: ObjectName, old: JSONValue?, new: JSONValue?) {
        let before = old.map(Self.controllerUID)
        let after = new.map(Self.controllerUID)
        guard before != after else { return }
        if let before {
            names[before]?.remove(name)
            if names[before]?.isEmpty == true { names[before] = nil }
        }
        if let after { names[after, default: []].insert(name) }
    }

    func names(controlledBy uid: String) -> Set<ObjectName> { names[uid] ?? [] }

    static func controllerUID(of object: JSONValue) -> String {
        object.managingController?["uid"]?.stringValue ?? ""
    }
}
