import Foundation
import KubeKit

/// The Job controller (batch/v1) for Jobs of one or more pods run to completion: up to `parallelism` pods at once
/// until `completions` have succeeded, a failed pod replaced until `backoffLimit` failures, `activeDeadlineSeconds`,
/// and the status (`active`, `ready`, `succeeded`, `failed`, `startTime`, `completionTime`, the Complete or Failed
/// condition with the real controller's reasons). Pods only finish where they run: under the process runtime a
/// Job's pod runs its command to the end; a simulated pod never exits, so its Job stays active.
actor JobController: SimulatedController {
    let store: ClusterStore
    private let jobs: ControllerClient
    private let pods: ControllerClient

    let watched: [StorageKey] = [.jobs, .pods]

    init?(store: ClusterStore) async {
        let manager = "job-controller"
        guard let jobs = await ControllerClient(store: store, key: .jobs, manager: manager),
            let pods = await ControllerClient(store: store, key: .pods, manager: manager)
        else { return nil }
        self.store = store
        self.jobs = jobs
        self.pods = pods
    }

    func reconcile(_: StoreChanges) async -> Duration? {
        var next: Duration?
        for job in await store.stored(.jobs) where !job.isBeingDeleted {
            if let due = await reconcile(job) { next = min(next ?? due, due) }
        }
        return next
    }

    /// Whether the Job has ended (a Complete or Failed condition that is True).
    static func finished(_ job: JSONValue) -> Bool {
        (job["status"]?["conditions"]?.arrayValue ?? []).contains {
            ["Complete", "Failed"].contains($0["type"]?.stringValue ?? "") && $0["status"]?.stringValue == "True"
        }
    }

    private func reconcile(_ job: JSONValue) async -> Duration? {
        guard let name = job.metadataName, let namespace = job.metadataNamespace, !Self.finished(job) else { return nil }
        let spec = job["spec"] ?? [:]
        let completions = Int(spec["completions"]?.intValue ?? 1)
        let parallelism = Int(spec["parallelism"]?.intValue ?? 1)
        let backoffLimit = Int(spec["backoffLimit"]?.intValue ?? 6)
        let owned = await store.stored(.pods, namespace: namespace).filter { $0.isControlled(by: job) }
        let succeeded = owned.filter { $0.podPhase == "Succeeded" }.count
        let failed = owned.filter { $0.podPhase == "Failed" }.count
        let active = owned.filter { !$0.isPodTerminal && !$0.isBeingDeleted }
        let now = Clock.now()
        var status = job["status"]?.objectValue ?? [:]
        let startTime = status["startTime"]?.stringValue ?? now
        status["startTime"] = .string(startTime)
        let previous = status["conditions"]?.arrayValue ?? []
        var ending: (type: String, reason: String, message: String)?
        var wakeUp: Duration?
        if succeeded >= completions {
            ending = ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        } else if failed > backoffLimit {
            ending = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let deadline = spec["activeDeadlineSeconds"]?.intValue, let started = Self.date(startTime) {
            let remaining = started.addingTimeInterval(TimeInterval(deadline)).timeIntervalSinceNow
            if remaining <= 0 {
                ending = ("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
            } else {
                wakeUp = .milliseconds(Int64(remaining * 1000) + 100)
            }
        }
        if let ending {
            for pod in active { await pods.delete(pod) }
            let criterion = ending.type == "Complete" ? "SuccessCriteriaMet" : "FailureTarget"
            status["conditions"] = .array([
                Conditions.make(criterion, true, reason: ending.reason, message: ending.message, previous: previous, now: now),
                Conditions.make(ending.type, true, reason: ending.reason, message: ending.message, previous: previous, now: now),
            ])
            if ending.type == "Complete" { status["completionTime"] = .string(now) }
            status["active"] = nil
            status["ready"] = .int(0)
        } else {
            let wanted = min(parallelism, completions - succeeded) - active.count
            for _ in 0..<max(0, wanted) { await pods.create(Self.pod(for: job, name: name, namespace: namespace)) }
            status["active"] = .int(Int64(max(active.count, min(parallelism, completions - succeeded))))
            status["ready"] = .int(Int64(active.filter(\.isPodReady).count))
        }
        status["succeeded"] = succeeded == 0 ? nil : .int(Int64(succeeded))
        status["failed"] = failed == 0 ? nil : .int(Int64(failed))
        guard let fresh = try? await store.get(jobs.resource, namespace: namespace, name: name), fresh.uid == job.uid else { return wakeUp }
        await jobs.updateStatus(of: fresh, to: .object(status))
        return wakeUp
    }

    static func date(_ text: String) -> Date? {
        try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// A pod of the Job's template, with the labels the real controller adds.
    static func pod(for job: JSONValue, name: String, namespace: String) -> JSONValue {
        let template = job["spec"]?["template"] ?? [:]
        var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
        let uid = JSONValue.string(job.uid ?? "")
        labels["batch.kubernetes.io/job-name"] = .string(name)
        labels["job-name"] = .string(name)
        labels["batch.kubernetes.io/controller-uid"] = uid
        labels["controller-uid"] = uid
        var metadata: [String: JSONValue] = [
            "name": .string("\(name)-\(NameValidation.generatedSuffix())"), "namespace": .string(namespace),
            "labels": .object(labels), "ownerReferences": [job.controllerReference],
        ]
        if let annotations = template["metadata"]?["annotations"] { metadata["annotations"] = annotations }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": template["spec"] ?? [:]]
    }
}
