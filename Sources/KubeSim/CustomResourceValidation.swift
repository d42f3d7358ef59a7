import KubeKit

extension ClusterStore {
    /// Prunes, defaults and validates a custom resource against its CRD version's schema before it is stored;
    /// a 422 Invalid naming every bad field otherwise. `old` is the stored object on update.
    func admitCustomResource(_ object: JSONValue, old: JSONValue?, resource: APIResource) throws(APIError) -> JSONValue {
        guard let root = resource.customSchema else { return object }
        let schema = StructuralSchema(root)
        let prepared = schema.prepared(object)
        let causes = schema.validate(prepared, old: old)
        if !causes.isEmpty {
            throw APIError.invalid(resource, name: prepared.metadataName ?? "", causes: causes)
        }
        return prepared
    }
}
