import KubeKit

/// Which informer events may change a reconcile's outcome, as controller-runtime's predicates: the rest never reach
/// the work queue. Creations and deletions always pass; an update passes when `changed(old, new)` says so.
public struct EventFilter<Object: KubernetesObject>: Sendable {
    private let changed: @Sendable (Object, Object) -> Bool

    public init(updatesWhere changed: @escaping @Sendable (_ old: Object, _ new: Object) -> Bool) {
        self.changed = changed
    }

    public func admits(_ event: InformerEvent<Object>) -> Bool {
        guard case .updated(let old, let new) = event else { return true }
        return changed(old, new)
    }

    /// Admits what either filter admits.
    public static func || (lhs: EventFilter, rhs: EventFilter) -> EventFilter {
        EventFilter { old, new in lhs.changed(old, new) || rhs.changed(old, new) }
    }

    /// Every event.
    public static var all: EventFilter { EventFilter { _, _ in true } }

    /// controller-runtime's GenerationChanged, Labels, Annotations and finalizer predicates together: a write of
    /// the status subresource alone passes nothing, so a controller is not woken by its own status updates.
    public static var specOrMetadataChanged: EventFilter {
        EventFilter { old, new in
            let before = old.metadata
            let after = new.metadata
            return before?.generation != after?.generation || before?.labels != after?.labels
                || before?.annotations != after?.annotations || before?.finalizers != after?.finalizers
                || before?.deletionTimestamp != after?.deletionTimestamp
                || before?.ownerReferences != after?.ownerReferences
        }
    }
}
