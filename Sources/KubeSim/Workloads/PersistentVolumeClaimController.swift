import Foundation
import KubeKit

/// The volume binder and the volume expander: every claim is Bound with the capacity it requests, and a grown request
/// is followed by the capacity after `volumeResizeDelay` (with `allocatedResources` showing the resize under way).
actor PersistentVolumeClaimController: SimulatedController {
    let store: ClusterStore
    let resizeDelay: Duration
    private let claims: ControllerClient
    /// Claims whose capacity is to follow a grown request.
    private var resizing = Delays()

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
        resizing.forgetDeleted(changes.changed(.persistentVolumeClaims))
        for claim in await store.stored(.persistentVolumeClaims, concernedBy: changes, waiting: resizing.names) where !claim.isBeingDeleted {
            guard let uid = claim.uid, let name = claim.objectName, let requested = claim["spec"]?["resources"]?["requests"]?["storage"] else { continue }
            var status = claim["status"]?.objectValue ?? [:]
            status["phase"] = "Bound"
            status["accessModes"] = claim["spec"]?["accessModes"] ?? ["ReadWriteOnce"]
            let capacity = status["capacity"]?["storage"]
            if capacity == nil {
                status["capacity"] = ["storage": requested]
                resizing.stop(name)
            } else if let capacity, let wanted = PersistentVolumeClaimValidation.quantity(requested),
                let have = PersistentVolumeClaimValidation.quantity(capacity), wanted > have
            {
                let waited = resizing.waited(name, uid: uid, now: now)
                status["allocatedResources"] = ["storage": requested]
                if waited >= resizeDelay {
                    status["capacity"] = ["storage": requested]
                    status["allocatedResources"] = nil
                    resizing.stop(name)
                } else {
                    let remaining = resizeDelay - waited
                    nextWake = min(nextWake ?? remaining, remaining)
                }
            } else {
                resizing.stop(name)
            }
            await claims.updateStatus(of: claim, to: .object(status))
        }
        return nextWake
    }
}
