import Foundation
import KubeKit

/// What controllers read off a pod, the way client-go's pod helpers do.
extension JSONValue {
    var podPhase: String { self["status"]?["phase"]?.stringValue ?? "Pending" }

    var isPodReady: Bool {
        podPhase == "Running"
            && (self["status"]?["conditions"]?.arrayValue ?? []).contains {
                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
            }
    }

    /// Running and Ready and not on its way out: what a StatefulSet waits for before touching the next ordinal.
    var isPodHealthy: Bool { isPodReady && !isBeingDeleted }

    var isPodTerminal: Bool { podPhase == "Failed" || podPhase == "Succeeded" }

    /// Whether `owner` is this object's managing controller.
    func isControlled(by owner: JSONValue) -> Bool {
        guard let uid = owner.uid else { return false }
        return managingController?["uid"]?.stringValue == uid
    }

    /// The ownerReference to this object's managing controller (`controller: true`), if it has one.
    var managingController: JSONValue? { ownerReferences.first { $0["controller"]?.boolValue == true } }

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
