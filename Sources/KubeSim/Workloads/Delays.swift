import Foundation
import KubeKit

/// The objects a controller waits on until a delay runs out, by name, each with the uid its wait started for: an
/// object deleted and made again under the same name waits afresh.
struct Delays {
    private var started: [ObjectName: (uid: String, since: ContinuousClock.Instant)] = [:]

    var names: Set<ObjectName> { Set(started.keys) }

    /// How long the object has waited, its wait starting now if it was not waiting.
    mutating func waited(_ name: ObjectName, uid: String, now: ContinuousClock.Instant) -> Duration {
        let since = started[name].flatMap { $0.uid == uid ? $0.since : nil } ?? now
        started[name] = (uid, since)
        return now - since
    }

    mutating func stop(_ name: ObjectName) {
        started[name] = nil
    }

    /// Ends the waits of the objects these changes deleted.
    mutating func forgetDeleted(_ changes: [StoreChanges.Change]) {
        for change in changes where change.deleted {
            if let name = change.object.objectName, started[name]?.uid == change.object.uid { started[name] = nil }
        }
    }
}
