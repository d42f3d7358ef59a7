import KubeKit

extension KubeClient {
    /// A read-modify-write as `kubectl edit` does it, again from a fresh read whenever another writer (the operator's
    /// status updates) came in between and the update met a 409 Conflict.
    @discardableResult
    public func edit<Object: KubernetesObject>(
        _ type: Object.Type, name: String, namespace: String? = nil, _ change: (inout Object) -> Void
    ) async throws -> Object {
        while true {
            var object = try await get(type, name: name, namespace: namespace)
            change(&object)
            do {
                return try await update(object)
            } catch let error as KubeAPIError where error.isConflict {
                continue
            }
        }
    }
}
