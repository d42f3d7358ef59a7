import KubeKit

/// The objects a simulated controller found needing nothing, by uid, with the resourceVersion it saw: a pass over every
/// object skips them until they change, so it costs what changed rather than every object of the cluster.
struct SettledObjects {
    private var versions: [String: String] = [:]

    func contains(_ object: JSONValue) -> Bool {
        guard let uid = object.uid, let version = object.resourceVersionString else { return false }
        return versions[uid] == version
    }

    mutating func insert(_ object: JSONValue) {
        guard let uid = object.uid else { return }
        versions[uid] = object.resourceVersionString
    }

    mutating func remove(uid: String) {
        versions[uid] = nil
    }

    mutating func removeAll() {
        versions.removeAll()
    }
}
