import KubeKit
import OperatorKit
import VectorBlocksAPI

/// Writes an Available/Unavailable status for a definition-like kind, only when it differs from what is stored, and
/// records a Warning event when the kind becomes unusable.
struct AvailabilityStatusWriter: Sendable {
    let client: KubeClient
    let events: EventRecorder

    /// `problems` empty means Available; otherwise the message lists every problem with its field and fix.
    func publish<Object: KubernetesObject>(
        _ object: Object, current: AvailabilityStatus?, problems: [FieldError], clusterDefGeneration: Int64? = nil
    ) async throws {
        let desired = AvailabilityStatus(
            phase: problems.isEmpty ? .available : .unavailable,
            message: problems.isEmpty ? nil : problems.map(\.description).joined(separator: "; "),
            observedGeneration: object.metadata?.generation, clusterDefGeneration: clusterDefGeneration)
        guard desired != current, let name = object.metadata?.name else { return }
        // A merge patch of the status subresource: no read-modify-write race with other writers of the object.
        let status = try JSONValue(encoding: desired)
        _ = try await client.patch(
            Object.descriptor, name: name, namespace: object.metadata?.namespace,
            patch: .merge(["status": status.withExplicitNulls(for: ["message", "clusterDefGeneration"])]),
            subresource: "status")
        if let message = desired.message, current?.message != message {
            await events.record(object, type: .warning, reason: "Unavailable", message: message)
        }
    }
}

extension JSONValue {
    /// A merge patch drops absent keys from its meaning; these keys must be cleared, so they are sent as null.
    func withExplicitNulls(for keys: [String]) -> JSONValue {
        guard case .object(var object) = self else { return self }
        for key in keys where object[key] == nil { object[key] = .null }
        return .object(object)
    }
}
