import KubeKit

/// `metav1.Condition` bookkeeping with the API conventions: one condition per type, `lastTransitionTime` moves only
/// when the status changes, and `observedGeneration` says which spec the condition speaks of.
public enum Conditions {
    /// Sets a condition, keeping its transition time unless the status changed. Returns whether anything changed,
    /// so a controller writes status only when it has something new to say.
    @discardableResult
    public static func set(
        _ conditions: inout [MetaV1.Condition], type: String, status: Status, reason: String, message: String,
        observedGeneration: Int64?, now: MetaV1.Time = .now()
    ) -> Bool {
        if let index = conditions.firstIndex(where: { $0.type == type }) {
            var condition = conditions[index]
            if condition.status != status.rawValue {
                condition.status = status.rawValue
                condition.lastTransitionTime = now
            }
            condition.reason = reason
            condition.message = message
            condition.observedGeneration = observedGeneration
            guard condition != conditions[index] else { return false }
            conditions[index] = condition
            return true
        }
        conditions.append(
            MetaV1.Condition(
                lastTransitionTime: now, message: message, observedGeneration: observedGeneration, reason: reason,
                status: status.rawValue, type: type))
        return true
    }

    @discardableResult
    public static func remove(_ conditions: inout [MetaV1.Condition], type: String) -> Bool {
        let before = conditions.count
        conditions.removeAll { $0.type == type }
        return conditions.count != before
    }

    public static func find(_ conditions: [MetaV1.Condition]?, type: String) -> MetaV1.Condition? {
        conditions?.first { $0.type == type }
    }

    public static func isTrue(_ conditions: [MetaV1.Condition]?, type: String) -> Bool {
        find(conditions, type: type)?.status == Status.true.rawValue
    }

    public enum Status: String, Sendable, Hashable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }
}
