import Foundation
import KubeKit

/// The volume binder and the volume expander: every claim is Bound with the capacity it requests, and a grown request
/// is followed by the capacity after `volumeResizeDelay` (with `allocatedResources` showing the resize under way).
actor PersistentVolumeClaimController: SimulatedController {
    let store: ClusterStore
    let resizeDelay: Duration
    private let claims: ControllerClient
    private var resizing: [String: ContinuousClock.Instant] = [:]
    /// Claims Bound at the capacity they request, with nothing to write until they change.
    private var settled = SettledObjects()

    let watched: [StorageKey] = [.persistentVolumeClaims]

    init?(store: ClusterStore, resizeDelay: Duration) async {
        guard let claims = await ControllerClient(store: store, key: .persistentVolumeClaims, manager: "persistentvolume-controller") else { return nil }
        self.store = store
        self.resizeDelay = resizeDelay
        self.claims = claims
    }

    func reconcile(_: StoreChanges) async -> Duration? {
        let now = ContinuousClock.now
        var nextWake: Duration?
        let current = await store.stored(.persistentVolumeClaims)
        let uids = Set(current.compactMap(\.uid))
        resizing = resizing.filter { uids.contains($0.key) }
        settled.keep(only: uids)
        for claim in current where !claim.isBeingDeleted && !settled.contains(claim) {
            guard let uid = claim.uid, let requested = claim["spec"]?["resources"]?["requests"]?["storage"] else { continue }
            var status = claim["status"]?.objectValue ?? [:]
            status["phase"] = "Bound"
            status["accessModes"] = claim["spec"]?["accessModes"] ?? ["ReadWriteOnce"]
            let capacity = status["capacity"]?["storage"]
            if capacity == nil {
                status["capacity"] = ["storage": requested]
            } else if let capacity, let wanted = PersistentVolumeClaimValidation.quantity(requested),
                let have = PersistentVolumeClaimValidation.quantity(capacity), wanted > have
            {
                let since = resizing[uid] ?? now
                resizing[uid] = since
                status["allocatedResources"] = ["storage": requested]
                if now - since >= resizeDelay {
                    status["capacity"] = ["storage": requested]
                    status["allocatedResources"] = nil
                    resizing[uid] = nil
                } else {
                    let remaining = resizeDelay - (now - since)
                    nextWake = min(nextWake ?? remaining, remaining)
                }
            }
            if claim["status"] == .object(status), resizing[uid] == nil {
                settled.insert(claim)
            } else {
                await claims.updateStatus(of: claim, to: .object(status))
            }
        }
        return nextWake
    }
}
