import Foundation
import KubeKit

/// The volume binder and the volume expander: every claim is Bound with the capacity it requests, and a grown request
/// is followed by the capacity after `volumeResizeDelay` (with `allocatedResources` showing the resize under way).
actor PersistentVolumeClaimController: SimulatedController {
    let store: ClusterStore
    let resizeDelay: Duration
    private let claims: ControllerClient
    /// Claims whose capacity is to follow a grown request: since when, by the uid that asked.
    private var resizing: [ObjectName: (uid: String, since: ContinuousClock.Instant)] = [:]

    let watched: [StorageKey] = [.persistentVolumeClaims]

    init?(store: ClusterStore, resizeDelay: Duration) async {
        guard let claims = await ControllerClient(store: store, key: .persistentVolumeClaims, manager: "persistentvolume-controller") else { return nil }
        self.store = store
        self.resizeDelay = resizeDelay
        self.claims = claims
    }

    /// Looks at the claims that changed and those being resized (every claim on the first pass).
    func reconcile(_ changes: StoreChanges) async -> Duration? {
        let now = ContinuousClock.now
        var nextWake: Duration?
        let changed = changes.changed(.persistentVolumeClaims)
        for change in changed where change.deleted {
            if let name = change.object.objectName, resizing[name]?.uid == change.object.uid { resizing[name] = nil }
        }
        let names = Set(resizing.keys).union(changed.filter { !$0.deleted }.compactMap(\.object.objectName))
        let current =
            changes.everything ? await store.stored(.persistentVolumeClaims) : await store.stored(.persistentVolumeClaims, named: names.sorted())
        for claim in current where !claim.isBeingDeleted {
            guard let uid = claim.uid, let name = claim.objectName, let requested = claim["spec"]?["resources"]?["requests"]?["storage"] else { continue }
            var status = claim["status"]?.objectValue ?? [:]
            status["phase"] = "Bound"
            status["accessModes"] = claim["spec"]?["accessModes"] ?? ["ReadWriteOnce"]
            let capacity = status["capacity"]?["storage"]
            if capacity == nil {
                status["capacity"] = ["storage": requested]
                resizing[name] = nil
            } else if let capacity, let wanted = PersistentVolumeClaimValidation.quantity(requested),
                let have = PersistentVolumeClaimValidation.quantity(capacity), wanted > have
            {
                let since = resizing[name].flatMap { $0.uid == uid ? $0.since : nil } ?? now
                resizing[name] = (uid, since)
                status["allocatedResources"] = ["storage": requested]
                if now - since >= resizeDelay {
                    status["capacity"] = ["storage": requested]
                    status["allocatedResources"] = nil
                    resizing[name] = nil
                } else {
                    let remaining = resizeDelay - (now - since)
                    nextWake = min(nextWake ?? remaining, remaining)
                }
            } else {
                resizing[name] = nil
            }
            await claims.updateStatus(of: claim, to: .object(status))
        }
        return nextWake
    }
}
