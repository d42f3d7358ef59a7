import Foundation
import KubeKit

/// A simulated controller: level-triggered, it looks at the whole store each pass and writes what differs.
protocol SimulatedController: Actor {
    /// The resources whose changes should start a pass.
    var watched: [StorageKey] { get }
    /// Brings the store closer to what this controller wants; returns when it next needs a pass although nothing
    /// changed (a delay running out), or nil.
    func reconcile() async -> Duration?
}

/// Runs a controller the way client-go does, but against the store rather than over HTTP: a watch per resource, and a
/// pass after every change or due wake-up. Changes that arrive during a pass are folded into one next pass.
enum ControlLoop {
    static func run(_ controller: some SimulatedController, store: ClusterStore) async {
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        var watchIDs: [UUID] = []
        let registry = await store.registrySnapshot()
        await withTaskGroup(of: Void.self) { group in
            for key in await controller.watched {
                guard let resource = registry.preferred(key),
                    let (id, events) = try? await store.watch(resource, namespace: nil, labels: .everything, fields: .everything, resourceVersion: nil)
                else { continue }
                watchIDs.append(id)
                group.addTask {
                    for await _ in events { signal.yield() }
                    // The store closed the watch: it is shutting down.
                    signal.finish()
                }
            }
            signal.yield()
            var wakeUp: Task<Void, Never>?
            for await _ in signals {
                if Task.isCancelled { break }
                wakeUp?.cancel()
                if let delay = await controller.reconcile() {
                    wakeUp = Task {
                        try? await Task.sleep(for: delay)
                        if !Task.isCancelled { signal.yield() }
                    }
                }
            }
            wakeUp?.cancel()
            for id in watchIDs { await store.stopWatch(id) }
            group.cancelAll()
        }
    }
}
