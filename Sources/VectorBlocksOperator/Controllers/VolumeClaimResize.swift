import KubeKit
import OperatorKit

/// A StatefulSet's volumeClaimTemplates are immutable, so a volume grows the way mature operators grow it: each
/// existing PVC is resized in place (the storage driver expands the disk), then the StatefulSet object is deleted
/// with its pods orphaned and made again with the new template, so later replicas get the new size. Pods keep
/// running throughout.
struct VolumeClaimResize: Sendable {
    let client: KubeClient
    let caches: OperatorCaches

    /// Returns whether a StatefulSet is being re-created, so the caller applies it once the old object is gone.
    func resizeIfGrown(desired: DesiredObject, observed: JSONValue?, namespace: String) async throws -> Bool {
        guard desired.resource == AppsV1.StatefulSet.descriptor, let observed,
            let wanted = try? desired.body.decode(as: AppsV1.StatefulSet.self),
            let current = try? observed.decode(as: AppsV1.StatefulSet.self)
        else { return false }
        var grown: [String: Quantity] = [:]
        for claim in wanted.spec?.volumeClaimTemplates ?? [] {
            guard let name = claim.metadata?.name, let size = claim.spec?.resources?.requests?["storage"],
                let existing = current.spec?.volumeClaimTemplates?.first(where: { $0.metadata?.name == name }),
                let before = existing.spec?.resources?.requests?["storage"], before < size
            else { continue }
            grown[name] = size
        }
        guard !grown.isEmpty, let statefulSet = current.metadata?.name else { return false }

        let claims = await caches.volumeClaims.list(
            namespace: namespace, selector: LabelSelector(matching: wanted.spec?.selector.matchLabels ?? [:]))
        for (template, size) in grown {
            for claim in claims {
                guard let name = claim.metadata?.name, name.hasPrefix("\(template)-\(statefulSet)-"),
                    let requested = claim.spec?.resources?.requests?["storage"], requested < size
                else { continue }
                _ = try await client.patch(
                    CoreV1.PersistentVolumeClaim.self, name: name, namespace: namespace,
                    patch: .merge(["spec": ["resources": ["requests": ["storage": .string(size.description)]]]]))
            }
        }
        if current.metadata?.deletionTimestamp == nil {
            do {
                try await client.delete(
                    AppsV1.StatefulSet.self, name: statefulSet, namespace: namespace, propagationPolicy: .orphan,
                    preconditions: MetaV1.Preconditions(uid: current.metadata?.uid))
            } catch let error as KubeAPIError where error.isNotFound {}
        }
        return true
    }
}
