/// How a KubeSim server behaves: who may call it, how its watches are paced, whether workloads run, which faults it injects.
public struct KubeSimConfiguration: Sendable {
    /// Bearer token → user name. When empty, a request without a known token is served as `system:anonymous`;
    /// otherwise an unknown token gets 401. Service-account tokens (`KubeSimServer.serviceAccountToken`, or the
    /// TokenRequest API) are accepted either way.
    public var tokens: [String: String] = [:]
    /// Enforce RBAC: every request is authorized against the stored Roles, ClusterRoles, RoleBindings and
    /// ClusterRoleBindings, and a denied one gets 403 Forbidden. Off by default, when every authenticated request
    /// may do anything.
    public var rbac = false
    /// Users (from `tokens`) that bypass RBAC, as members of `system:masters` do.
    public var administrators: Set<String> = ["admin"]
    /// How often a watch with `allowWatchBookmarks=true` receives a BOOKMARK event.
    public var bookmarkInterval: Duration = .seconds(1)
    /// How many events the server keeps for watches that resume from a resourceVersion; older ones get 410 Gone.
    public var watchHistoryLimit = 10_000
    /// How many live events an HTTP watch may have waiting for its client before the server closes it, as
    /// kube-apiserver closes a watcher too slow to keep up (its client resumes from the last event it read). Kept
    /// at most `watchHistoryLimit`, so that resumption finds its events.
    public var watchBacklogLimit = 1_000
    /// Serve HTTPS with a fresh self-signed certificate (see `KubeSimServer.certificateAuthorityPEM`). kubectl only
    /// sends bearer tokens over TLS, so turn this on to drive kubectl against a server with `tokens`.
    public var tls = false
    /// The simulated scheduler, kubelets and controllers that make pods, claims, endpoints and load balancers behave;
    /// nil serves the API alone (objects are stored, nothing acts on them).
    public var workloads: WorkloadSimulation?
    /// Faults injected into client requests; changeable at run time with `KubeSimServer.setFaults(_:)`.
    public var faults = FaultInjection.none

    public init() {}
}
