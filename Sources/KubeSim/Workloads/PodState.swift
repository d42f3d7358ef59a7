import Foundation
import KubeKit

/// What controllers read off a pod, the way client-go's pod helpers do.
extension JSONValue {
    var podPhase: String { self["status"]?["phase"]?.stringValue ?? "Pending" }

    var isPodReady: Bool {
        podPhase == "Running" && (self["status"]?["conditions"]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// Running and Ready and not on its way out: what a StatefulSet waits for before touching the next ordinal.
    var isPodHealthy: Bool { isPodReady && !isBeingDeleted }

    var isPodTerminal: Bool { podPhase == "Failed" || podPhase == "Succeeded" }

    /// Whether `owner` is this object's managing controller.
    func isControlled(by owner: JSONValue) -> Bool {
        guard let uid = owner.uid else { return false }
        return ownerReferences.contains { $0["uid"]?.stringValue == uid && $0["controller"]?.boolValue == true }
    }

    var labels: [String: String] {
        (self["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// A controller ownerReference to this object, as the workload controllers set on what they create.
    var controllerReference: JSONValue {
        [
            "apiVersion": self["apiVersion"] ?? "v1", "kind": self["kind"] ?? "", "name": .string(metadataName ?? ""),
            "uid": .string(uid ?? ""), "controller": true, "blockOwnerDeletion": true,
        ]
    }
}

/// Conditions as controllers write them: the transition time only moves when the status does.
enum Conditions {
    static func make(_ type: String, _ status: Bool, reason: String? = nil, message: String? = nil, previous: [JSONValue], now: String, withUpdateTime: Bool = false) -> JSONValue {
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

/// Hashes the way Kubernetes names revisions: FNV-1a over the object, then `rand.SafeEncodeString` of the decimal
/// value (no vowels, so no words), as in `controller-revision-hash` and `pod-template-hash` labels.
enum TemplateHash {
    static func of(_ value: JSONValue) -> String {
        let data = (try? value.jsonData(sortedKeys: true)) ?? Data()
        return of(bytes: Array(data))
    }

    static func of(bytes: [UInt8]) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }
}
