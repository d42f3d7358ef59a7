extension KubeClient {
    /// The server's version (`/version`).
    public func serverVersion() async throws -> VersionInfo {
        try decode(VersionInfo.self, from: await send(Request(method: .GET, path: "/version")), what: "version")
    }

    /// The API groups the server serves (`/apis`), not including the core group.
    public func serverGroups() async throws -> MetaV1.APIGroupList {
        try decode(MetaV1.APIGroupList.self, from: await send(Request(method: .GET, path: "/apis")), what: "APIGroupList")
    }

    /// The resources of one group version, such as `v1` or `apps.vectorblocks.io/v1alpha1`; nil when the server
    /// does not serve that group version (for example, the CRDs are not installed).
    public func serverResources(groupVersion: String) async throws -> MetaV1.APIResourceList? {
        let path = groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)"
        do {
            return try decode(
                MetaV1.APIResourceList.self, from: await send(Request(method: .GET, path: path)),
                what: "APIResourceList")
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    /// Whether the server serves a resource, such as `clusters` in `apps.vectorblocks.io/v1alpha1`.
    public func serves(_ resource: ResourceDescriptor) async throws -> Bool {
        guard let list = try await serverResources(groupVersion: resource.apiVersion) else { return false }
        return list.resources.contains { $0.name == resource.plural }
    }
}
