import Foundation
import KubeKit

/// What the kubelet knows of one container of a running pod: its process, state, last state, restarts and probe
/// results, and the status it reports from them.
struct ContainerRecord: Sendable {
    let name: String
    let image: String
    let spec: JSONValue
    var process: ContainerProcess?
    /// Bumped at every start, so a stale exit or probe result of an earlier run is told apart.
    var generation = 0
    var state: JSONValue = ["waiting": ["reason": "ContainerCreating"]]
    var lastState: JSONValue = [:]
    var restartCount = 0
    var ready = false
    var started = false
    var startedAt: ContinuousClock.Instant?
    /// Consecutive crashes, for the back-off; reset after ten minutes of running.
    var crashes = 0
    var probeCounts: [ProbeKind: (successes: Int, failures: Int)] = [:]
    var startupSucceeded = false

    init(spec: JSONValue) {
        self.spec = spec
        self.name = spec["name"]?.stringValue ?? ""
        self.image = spec["image"]?.stringValue ?? ""
    }

    var isRunning: Bool { state["running"] != nil }
    var isTerminated: Bool { state["terminated"] != nil }
    var exitCode: Int64? { state["terminated"]?["exitCode"]?.intValue }

    func status(uid: String) -> JSONValue {
        var status: [String: JSONValue] = [
            "name": .string(name), "image": .string(image), "imageID": .string("kube-sim-process://" + image),
            "ready": .bool(ready), "started": .bool(started), "restartCount": .int(Int64(restartCount)), "state": state,
            "lastState": lastState,
        ]
        if process != nil || isTerminated || restartCount > 0 {
            status["containerID"] = .string("process://\(uid)/\(name)/\(generation)")
        }
        return .object(status)
    }
}

enum ProbeKind: String, Sendable, Hashable {
    case startup, liveness, readiness

    var field: String { rawValue + "Probe" }
}
