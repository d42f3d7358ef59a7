import Foundation
import VectorBlocksAPI

/// Emu's replicas from the queue's backlog: enough workers for `targetBacklogPerReplica` messages each, within
/// `minReplicas`…`maxReplicas`, changed no sooner than a cooldown after the last change (scale-up short, so a burst
/// is met at once; scale-down long, so a lull does not throw away workers that the next burst needs). A backlog with
/// `minReplicas: 0` still gets one worker: messages must not wait for ever.
public enum BacklogScaler {
    public struct Decision: Sendable, Hashable {
        public var replicas: Int32
        /// The replica count the backlog asks for, before cooldowns.
        public var wanted: Int32
        public var changed: Bool
    }

    /// `scaling` carries its defaults (`VectorPipeline.withDefaults()`); `lastScale` is when the replicas last changed.
    public static func decide(
        current: Int32?, backlog: Int64, scaling: VectorPipelineSpec.Scaling, lastScale: Date?, now: Date
    ) -> Decision {
        let minimum = max(scaling.minReplicas ?? 1, 0)
        let maximum = max(scaling.maxReplicas ?? 10, minimum)
        let target = Int64(max(scaling.targetBacklogPerReplica ?? 1000, 1))
        var wanted = Int32(clamping: (max(backlog, 0) + target - 1) / target)
        if backlog > 0 { wanted = max(wanted, 1) }
        wanted = min(max(wanted, minimum), maximum)
        guard let current else { return Decision(replicas: wanted, wanted: wanted, changed: true) }
        guard wanted != current else { return Decision(replicas: current, wanted: wanted, changed: false) }
        // New bounds in the spec apply at once.
        if current < minimum || current > maximum { return Decision(replicas: wanted, wanted: wanted, changed: true) }
        let cooldown = TimeInterval(wanted > current ? (scaling.scaleUpCooldownSeconds ?? 30) : (scaling.scaleDownCooldownSeconds ?? 300))
        if let lastScale, now.timeIntervalSince(lastScale) < cooldown {
            return Decision(replicas: current, wanted: wanted, changed: false)
        }
        return Decision(replicas: wanted, wanted: wanted, changed: true)
    }

    /// When a held-back change becomes allowed, for the next look.
    public static func cooldownEnds(
        current: Int32, wanted: Int32, scaling: VectorPipelineSpec.Scaling, lastScale: Date?
    ) -> Date? {
        guard wanted != current, let lastScale else { return nil }
        let cooldown = TimeInterval(wanted > current ? (scaling.scaleUpCooldownSeconds ?? 30) : (scaling.scaleDownCooldownSeconds ?? 300))
        return lastScale.addingTimeInterval(cooldown)
    }
}
