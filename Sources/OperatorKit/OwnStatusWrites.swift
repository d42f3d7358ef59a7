import KubeKit
import NIOConcurrencyHelpers

/// The status a controller last wrote for each of its objects, until its cache has caught up with the write.
///
/// A controller that is not woken by its own status writes (`specOrMetadataChanged`) and writes a status only when it
/// differs from the stored one can be misled by a cache that has not yet seen its last write: a status computed again
/// that equals the *cached* one is skipped although the server holds the newer one just written, and nothing wakes
/// the controller again, so the object keeps the newer, now wrong, status. So the writes are remembered: `known` is
/// what the server holds while the cache still shows the version the write was made over, and `isEcho` lets every
/// status change wake the controller except the cache catching up with its last write in one step.
public final class OwnStatusWrites<Status: Sendable & Equatable>: Sendable {
    private struct Write {
        /// The resourceVersion the cache held when the status was written over it.
        var over: String
        /// The resourceVersion the write made.
        var made: String
        var status: Status
    }

    private let writes = NIOLockedValueBox<[ObjectKey: Write]>([:])

    public init() {}

    /// The status the server holds as far as this controller knows: the one it wrote over `cachedVersion` while the
    /// cache still holds that version, otherwise the cached one.
    public func known(_ key: ObjectKey, cachedVersion: String?, cached: Status?) -> Status? {
        writes.withLockedValue { writes in
            guard let write = writes[key] else { return cached }
            guard write.over == cachedVersion else {
                // The cache moved on from the version the write was made over; from here on it is the reference.
                writes[key] = nil
                return cached
            }
            return write.status
        }
    }

    /// Remembers `status`, written over the cached `over` and stored by the server as `made`.
    public func record(_ status: Status, of key: ObjectKey, over: String?, made: String?) {
        writes.withLockedValue { writes in
            guard let over, let made else {
                writes[key] = nil
                return
            }
            writes[key] = Write(over: over, made: made, status: status)
        }
    }

    /// Remembers `status`, written over the cached object as the server's `response` to the write stored it.
    public func record<Object: KubernetesObject>(_ status: Status, over cached: Object, response: JSONValue) {
        guard let key = ObjectKey(cached) else { return }
        record(status, of: key, over: cached.metadata?.resourceVersion, made: response["metadata"]?["resourceVersion"]?.stringValue)
    }

    /// Whether an update from `old` to `new` is the cache catching up with this controller's last status write
    /// straight from the version it was made over: it shows nothing a reconcile did not already decide on.
    public func isEcho(_ key: ObjectKey, from old: String?, to new: String?) -> Bool {
        writes.withLockedValue { writes in
            guard let write = writes[key], write.over == old, write.made == new else { return false }
            writes[key] = nil
            return true
        }
    }

    public func forget(_ key: ObjectKey) {
        _ = writes.withLockedValue { $0.removeValue(forKey: key) }
    }
}

extension EventFilter {
    /// Updates that change the status other than by the cache catching up with the controller's own last write.
    public static func statusChanged<Status>(
        _ status: @escaping @Sendable (Object) -> Status?, exceptEchoesOf writes: OwnStatusWrites<Status>
    ) -> EventFilter {
        EventFilter { old, new in
            guard status(old) != status(new), let key = ObjectKey(new) else { return false }
            return !writes.isEcho(key, from: old.metadata?.resourceVersion, to: new.metadata?.resourceVersion)
        }
    }
}
