import Foundation
import KubeKit
import NIOCore

/// Which objects a watch follows.
struct WatchFilter: Sendable {
    var resource: APIResource
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector

    func matches(_ object: JSONValue?) -> Bool {
        guard let object else { return false }
        if let namespace, object.metadataNamespace != namespace { return false }
        return labels.matches(object) && fields.matches(object)
    }

    /// The event this watch sees for a change, if any: an object that starts matching is ADDED, one that stops
    /// matching is DELETED, as the real watch cache does.
    func event(for entry: HistoryEntry, presenting: (JSONValue) -> JSONValue) -> WatchEvent? {
        guard entry.key == resource.key else { return nil }
        let wasMatching = matches(entry.previous)
        let isMatching = matches(entry.object)
        switch entry.type {
        case "ADDED": return isMatching ? WatchEvent(type: "ADDED", object: presenting(entry.object)) : nil
        case "DELETED": return wasMatching || isMatching ? WatchEvent(type: "DELETED", object: presenting(entry.object)) : nil
        default:
            switch (wasMatching, isMatching) {
            case (true, true): return WatchEvent(type: "MODIFIED", object: presenting(entry.object))
            case (false, true): return WatchEvent(type: "ADDED", object: presenting(entry.object))
            case (true, false): return WatchEvent(type: "DELETED", object: presenting(entry.object))
            case (false, false): return nil
            }
        }
    }
}

/// An open watch: which objects it follows and where its events go.
struct Watcher: Sendable {
    var filter: WatchFilter
    var events: WatchEventQueue
}

extension ClusterStore {
    /// Opens a watch. Without a resourceVersion (or with "0") it starts with ADDED for every current object; from
    /// `resourceVersion=N` it replays the history after N, or sends one ERROR 410 Expired event when N is older than
    /// the history. Either way it then follows live changes, with no gap. With a `backlogLimit`, the watch is closed
    /// once more live events than that wait for its reader (see `KubeSimConfiguration.watchBacklogLimit`).
    func watch(
        _ resource: APIResource, namespace: String?, labels: LabelSelector, fields: FieldSelector, resourceVersion from: String?,
        backlogLimit: Int? = nil
    ) throws(APIError) -> (id: UUID, events: WatchEventQueue) {
        let id = UUID()
        let filter = WatchFilter(resource: resource, namespace: namespace, labels: labels, fields: fields)
        let present = { (object: JSONValue) in self.present(object, as: resource) }
        var initial: [WatchEvent] = []
        if let from, !from.isEmpty, from != "0" {
            guard let start = Int64(from) else {
                throw APIError.badRequest("invalid resource version: \(from)")
            }
            if start < historyFloor {
                let status = APIError.gone("too old resource version: \(start) (\(historyFloor + 1))").status
                return (id, .ended(with: [WatchEvent(type: "ERROR", object: status)]))
            }
            initial = history.lazy.filter { $0.resourceVersion > start }.compactMap { filter.event(for: $0, presenting: present) }
        } else {
            initial = matchingObjects(resource.key, namespace: namespace, labels: labels, fields: fields).map { WatchEvent(type: "ADDED", object: present($0)) }
        }
        // The events a watch starts with do not count against its backlog: only the live ones its reader falls behind on.
        let events = WatchEventQueue(initial, capacity: backlogLimit.map { initial.count + max(1, $0) })
        watchers[id] = Watcher(filter: filter, events: events)
        return (id, events)
    }

    func stopWatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.events.end()
    }

    /// The watches open now, the server's own controllers' included.
    func openWatchCount() -> Int {
        watchers.count
    }

    /// Sends a BOOKMARK carrying the current resourceVersion: every change up to it has already been delivered.
    func bookmark(_ id: UUID) {
        guard let watcher = watchers[id] else { return }
        let object: JSONValue = [
            "kind": .string(watcher.filter.resource.kind), "apiVersion": .string(watcher.filter.resource.apiVersion),
            "metadata": ["resourceVersion": .string(String(currentResourceVersion()))],
        ]
        watcher.events.append(WatchEvent(type: "BOOKMARK", object: object))
    }

    func closeAllWatches() {
        for watcher in watchers.values { watcher.events.end() }
        watchers.removeAll()
    }

    /// Sends a change to the watches that see it, serialising it once per form it is seen in (version and
    /// event type) rather than once per watch.
    func deliver(_ entry: HistoryEntry) {
        var lines: [String: ByteBuffer] = [:]
        var tooSlow: [UUID] = []
        for (id, watcher) in watchers {
            guard var event = watcher.filter.event(for: entry, presenting: { self.present($0, as: watcher.filter.resource) }) else { continue }
            let form = "\(watcher.filter.resource.apiVersion) \(event.type)"
            if let line = lines[form] {
                event.line = line
            } else {
                let line = WatchEvent.line(type: event.type, object: event.object)
                lines[form] = line
                event.line = line
            }
            if watcher.events.append(event) == .overCapacity { tooSlow.append(id) }
        }
        // Its reader resumes from the last event it read, the dropped one included: the history still holds it.
        for id in tooSlow { stopWatch(id) }
    }
}
