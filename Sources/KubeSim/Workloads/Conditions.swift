import KubeKit

/// Conditions as controllers write them: the transition time only moves when the status does.
enum Conditions {
    static func make(
        _ type: String, _ status: Bool, reason: String? = nil, message: String? = nil, previous: [JSONValue], now: String, withUpdateTime: Bool = false
    ) -> JSONValue {
        let statusText = status ? "True" : "False"
        let old = previous.first { $0["type"]?.stringValue == type }
        let unchanged = old?["status"]?.stringValue == statusText
        var condition: [String: JSONValue] = [
            "type": .string(type), "status": .string(statusText),
            "lastTransitionTime": unchanged ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now),
        ]
        if let reason { condition["reason"] = .string(reason) }
        if let message { condition["message"] = .string(message) }
        if withUpdateTime {
            let same = unchanged && old?["reason"]?.stringValue == reason && old?["message"]?.stringValue == message
            condition["lastUpdateTime"] = same ? (old?["lastUpdateTime"] ?? .string(now)) : .string(now)
        }
        return .object(condition)
    }
}
