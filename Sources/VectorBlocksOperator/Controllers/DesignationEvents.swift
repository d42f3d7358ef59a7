import OperatorKit
import VectorBlocksAPI

/// A Cluster's designated primaries, written outside the Cluster controller's own reconcile (a Switchover's
/// compare-and-swap on the status), wake it: only it fences, promotes and re-points. Its own status writes are
/// otherwise filtered out (`specOrMetadataChanged`).
enum DesignationEvents {
    static let primaryChanged = EventFilter<Cluster>(updatesWhere: { old, new in
        primaries(old) != primaries(new)
    })

    static func primaries(_ cluster: Cluster) -> [String: String] {
        (cluster.status?.components ?? [:]).compactMapValues(\.primary)
    }
}
