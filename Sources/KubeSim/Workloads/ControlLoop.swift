import Foundation
import KubeKit
import Synchronization

/// A simulated controller: level-triggered, it brings the objects a change touches (every object, when asked to)
/// closer to what it wants and writes what differs.
protocol SimulatedController: Actor {
    /// The resources whose changes should start a pass.
    var watched: [StorageKey] { get }
    /// Brings the store closer to what this controller wants, for what `changes` holds; returns when it next needs a
    /// pass although nothing changed (a delay running out: that pass is marked due), or nil.
    func reconcile(_ changes: StoreChanges) async -> Duration?
}

/// Runs a controller the way client-go does, but against the store rather than over HTTP: a watch per resource, and a
/// pass after every change or due wake-up. Changes that arrive during a pass are folded into one next pass, which is
/// handed the objects they changed.
enum ControlLoop {
    static func run(_ controller: some SimulatedController, store: ClusterStore) async {
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let pending = PendingChanges()
        var watchIDs: [UUID] = []
        let registry = await store.registrySnapshot()
        await withTaskGroup(of: Void.self) { group in
            for key in await controller.watched {
                guard let resource = registry.preferred(key),
                    let (id, events) = try? await store.watch(resource, namespace: nil, labels: .everything, fields: .everything, resourceVersion: nil)
                else { continue }
                watchIDs.append(id)
                group.addTask {
                    while let batch = await events.take() {
                        pending.record(key, batch)
                        signal.yield()
                    }
                    // The store closed the watch: it is shutting down.
                    signal.finish()
                }
            }
            signal.yield()
            var wakeUp: Task<Void, Never>?
            for await _ in signals {
                if Task.isCancelled { break }
                let changes = pending.take()
                guard !changes.isEmpty else { continue }
                wakeUp?.cancel()
                if let delay = await controller.reconcile(changes) {
                    wakeUp = Task {
                        try? await Task.sleep(for: delay)
                        guard !Task.isCancelled else { return }
                        pending.markDue()
                        signal.yield()
                    }
                }
            }
            wakeUp?.cancel()
            for id in watchIDs { await store.stopWatch(id) }
            group.cancelAll()
        }
    }
}

/// The changes a control loop's watches gathered for its next pass.
private final class PendingChanges: Sendable {
    private let changes = Mutex(StoreChanges.everything)

    func record(_ key: StorageKey, _ events: [WatchEvent]) {
        changes.withLock { changes in
            for event in events { changes.record(key, type: event.type, object: event.object) }
        }
    }

    func markDue() {
        changes.withLock { $0.markDue() }
    }

    /// What gathered since the last take, leaving nothing.
    func take() -> StoreChanges {
        changes.withLock { changes in
            defer { changes = .nothing }
            return changes
        }
    }
}
