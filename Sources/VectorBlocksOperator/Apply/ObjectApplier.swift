import KubeKit
import Logging

/// Writes desired objects with server-side apply under the operator's field manager, and only those that differ
/// from what is observed (`Drift.isCurrent`), so a reconcile where nothing changed writes nothing.
struct ObjectApplier: Sendable {
    let client: KubeClient
    let fieldManager: String

    struct Outcome: Sendable {
        var applied: [String] = []
        /// `Kind/name` → why the server refused it.
        var failures: [String: String] = [:]
    }

    /// `observed` holds the stored objects by `Kind/name`.
    func apply(_ desired: [DesiredObject], observed: [String: JSONValue]) async -> Outcome {
        var outcome = Outcome()
        for object in desired {
            do {
                let body = try Drift.stamped(object.body)
                if let current = observed[object.description], Drift.isCurrent(current, stamped: body) { continue }
                // Forced: the operator is the one owner of these fields; a person's kubectl edit is reverted. The
                // whole desired body goes, so the server removes what the operator applied before and leaves out now.
                _ = try await client.apply(
                    object.resource, body, name: object.name, namespace: object.namespace,
                    fieldManager: fieldManager, force: true)
                outcome.applied.append(object.description)
            } catch {
                outcome.failures[object.description] = Self.reason(error)
            }
        }
        return outcome
    }

    /// The server's own words for a refusal (its Status message names the field), never a secret's content.
    static func reason(_ error: any Error) -> String {
        if let error = error as? KubeAPIError, !error.message.isEmpty { return error.message }
        return "\(error)"
    }
}
