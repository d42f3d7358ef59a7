import KubeKit
import KubeSim
import Testing

private let rbac = "/apis/rbac.authorization.k8s.io/v1"

private func clusterRole(_ name: String, rules: JSONValue) -> JSONValue {
    ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": .string(name)], "rules": rules]
}

private func binding(_ kind: String, _ name: String, namespace: String? = nil, role: String, subjects: JSONValue) -> JSONValue {
    var metadata: [String: JSONValue] = ["name": .string(name)]
    if let namespace { metadata["namespace"] = .string(namespace) }
    return [
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": .string(kind), "metadata": .object(metadata),
        "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role)], "subjects": subjects,
    ]
}

private let statefulSet: JSONValue = [
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "db"],
    "spec": [
        "serviceName": "db", "selector": ["matchLabels": ["app": "db"]],
        "template": ["metadata": ["labels": ["app": "db"]], "spec": ["containers": [["name": "db", "image": "postgres:17"]]]],
    ],
]

/// A server with RBAC on, an administrator, a user with no bindings, and namespace `team` holding a StatefulSet,
/// two ConfigMaps and the ServiceAccount `operator` bound there by a RoleBinding to the ClusterRole `operator`.
private func withRBACServer(_ body: (KubeSimServer, TestClient) async throws -> Void) async throws {
    var configuration = KubeSimConfiguration()
    configuration.tokens = ["admin-token": "admin", "alice-token": "alice"]
    configuration.rbac = true
    try await withServer(configuration: configuration) { server, _ in
        let admin = TestClient(server, token: "admin-token")
        #expect(try await admin.post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]]).status == 201)
        #expect(
            try await admin.post("/api/v1/namespaces/team/serviceaccounts", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "operator"]])
                .status == 201)
        #expect(try await admin.post("/apis/apps/v1/namespaces/team/statefulsets", statefulSet).status == 201)
        #expect(try await admin.post("/api/v1/namespaces/team/configmaps", configMap("allowed", namespace: "team")).status == 201)
        #expect(try await admin.post("/api/v1/namespaces/team/configmaps", configMap("other", namespace: "team")).status == 201)
        let role = clusterRole(
            "operator",
            rules: [
                ["apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "list", "watch"]],
                ["apiGroups": ["apps"], "resources": ["statefulsets/status"], "verbs": ["update", "patch"]],
                ["apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["allowed"], "verbs": ["get", "watch", "list"]],
            ])
        #expect(try await admin.post("\(rbac)/clusterroles", role).status == 201)
        #expect(
            try await admin.post(
                "\(rbac)/namespaces/team/rolebindings",
                binding(
                    "RoleBinding", "operator", namespace: "team", role: "operator",
                    subjects: [["kind": "ServiceAccount", "name": "operator"]])
            ).status == 201)
        try await body(server, admin)
    }
}

@Suite("Service-account tokens and RBAC")
struct AuthorizationTests {
    static let operatorUser = "system:serviceaccount:team:operator"

    @Test("a ServiceAccount bound by a RoleBinding to a ClusterRole may do what the role allows there, and nothing else")
    func roleBindingToClusterRole() async throws {
        try await withRBACServer { server, _ in
            let account = TestClient(server, token: try await server.serviceAccountToken(namespace: "team", name: "operator"))
            #expect(try await account.get("/apis/apps/v1/namespaces/team/statefulsets").status == 200)
            #expect(try await account.get("/apis/apps/v1/namespaces/team/statefulsets/db").status == 200)

            let elsewhere = try await account.get("/apis/apps/v1/namespaces/default/statefulsets")
            #expect(elsewhere.status == 403)
            #expect(elsewhere.reason == "Forbidden")
            #expect(
                elsewhere.body["message"]
                    == .string(
                        "statefulsets.apps is forbidden: User \"\(Self.operatorUser)\" cannot list resource \"statefulsets\" in API group \"apps\" in the namespace \"default\""
                    ))
            #expect(elsewhere.body["details"] == ["group": "apps", "kind": "statefulsets"])

            let clusterWide = try await account.get("/apis/apps/v1/statefulsets")
            #expect(
                clusterWide.body["message"]
                    == .string(
                        "statefulsets.apps is forbidden: User \"\(Self.operatorUser)\" cannot list resource \"statefulsets\" in API group \"apps\" at the cluster scope"
                    ))

            let delete = try await account.delete("/apis/apps/v1/namespaces/team/statefulsets/db")
            #expect(delete.status == 403)
            #expect(
                delete.body["message"]
                    == .string(
                        "statefulsets.apps \"db\" is forbidden: User \"\(Self.operatorUser)\" cannot delete resource \"statefulsets\" in API group \"apps\" in the namespace \"team\""
                    ))
            #expect(delete.body["details"] == ["group": "apps", "kind": "statefulsets", "name": "db"])
        }
    }

    @Test("list and watch are verbs of their own")
    func listAndWatchDenied() async throws {
        try await withRBACServer { server, _ in
            let account = TestClient(server, token: try await server.serviceAccountToken(namespace: "team", name: "operator"))
            let watch = try await account.get("/api/v1/namespaces/team/pods?watch=true")
            #expect(watch.status == 403)
            #expect(
                watch.body["message"]
                    == .string("pods is forbidden: User \"\(Self.operatorUser)\" cannot watch resource \"pods\" in API group \"\" in the namespace \"team\""))
            let list = try await account.get("/api/v1/namespaces/team/pods")
            #expect(
                list.body["message"]
                    == .string("pods is forbidden: User \"\(Self.operatorUser)\" cannot list resource \"pods\" in API group \"\" in the namespace \"team\""))
            let events = try await account.watch("/apis/apps/v1/namespaces/team/statefulsets?watch=true", count: 1)
            #expect(events.first?["type"] == "ADDED")
        }
    }

    @Test("subresources are authorized as resource/subresource, and */subresource matches every resource's")
    func subresources() async throws {
        try await withRBACServer { server, admin in
            let account = TestClient(server, token: try await server.serviceAccountToken(namespace: "team", name: "operator"))
            let status = try await account.patch(
                "/apis/apps/v1/namespaces/team/statefulsets/db/status", ["status": ["replicas": 1]],
                type: "application/merge-patch+json")
            #expect(status.status == 200)
            let spec = try await account.patch(
                "/apis/apps/v1/namespaces/team/statefulsets/db", ["spec": ["replicas": 2]],
                type: "application/merge-patch+json")
            #expect(spec.status == 403)
            #expect(
                spec.body["message"]
                    == .string(
                        "statefulsets.apps \"db\" is forbidden: User \"\(Self.operatorUser)\" cannot patch resource \"statefulsets\" in API group \"apps\" in the namespace \"team\""
                    ))
            let scale = try await account.patch(
                "/apis/apps/v1/namespaces/team/statefulsets/db/scale", ["spec": ["replicas": 2]],
                type: "application/merge-patch+json")
            #expect(
                scale.body["message"]
                    == .string(
                        "statefulsets.apps \"db\" is forbidden: User \"\(Self.operatorUser)\" cannot patch resource \"statefulsets/scale\" in API group \"apps\" in the namespace \"team\""
                    ))

            #expect(
                try await admin.post(
                    "\(rbac)/clusterroles", clusterRole("status-writer", rules: [["apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]]])
                ).status == 201)
            #expect(
                try await admin.post(
                    "\(rbac)/clusterrolebindings",
                    binding(
                        "ClusterRoleBinding", "alice-status", role: "status-writer",
                        subjects: [["kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"]])
                ).status == 201)
            let alice = TestClient(server, token: "alice-token")
            #expect(
                try await alice.patch("/apis/apps/v1/namespaces/team/statefulsets/db/status", ["status": ["replicas": 1]], type: "application/merge-patch+json")
                    .status == 200)
            #expect(
                try await alice.patch("/api/v1/namespaces/team/configmaps/allowed", ["data": ["k": "x"]], type: "application/merge-patch+json").status == 403)
        }
    }

    @Test("resourceNames allow the named objects only, including a watch narrowed to one name")
    func resourceNames() async throws {
        try await withRBACServer { server, _ in
            let account = TestClient(server, token: try await server.serviceAccountToken(namespace: "team", name: "operator"))
            #expect(try await account.get("/api/v1/namespaces/team/configmaps/allowed").status == 200)
            let other = try await account.get("/api/v1/namespaces/team/configmaps/other")
            #expect(other.status == 403)
            #expect(
                other.body["message"]
                    == .string(
                        "configmaps \"other\" is forbidden: User \"\(Self.operatorUser)\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"team\""
                    ))
            let list = try await account.get("/api/v1/namespaces/team/configmaps")
            #expect(list.status == 403)
            #expect(try await account.get("/api/v1/namespaces/team/configmaps?fieldSelector=metadata.name%3Dallowed").status == 200)
            let events = try await account.watch("/api/v1/namespaces/team/configmaps?watch=true&fieldSelector=metadata.name%3Dallowed", count: 1)
            #expect(events.first?["object"]?["metadata"]?["name"] == "allowed")
        }
    }

    @Test("discovery is open to every authenticated user; other paths and resources are not")
    func discoveryAndNonResourceURLs() async throws {
        try await withRBACServer { server, admin in
            let alice = TestClient(server, token: "alice-token")
            for path in ["/version", "/api", "/api/v1", "/apis", "/apis/apps/v1", "/openapi/v2"] {
                #expect(try await alice.get(path).status == 200, "\(path)")
            }
            let metrics = try await alice.get("/metrics")
            #expect(metrics.status == 403)
            #expect(metrics.body["message"] == "forbidden: User \"alice\" cannot get path \"/metrics\"")
            let namespaces = try await alice.get("/api/v1/namespaces")
            #expect(
                namespaces.body["message"]
                    == "namespaces is forbidden: User \"alice\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope")
            let namespace = try await alice.get("/api/v1/namespaces/team")
            #expect(
                namespace.body["message"]
                    == "namespaces \"team\" is forbidden: User \"alice\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"team\"")

            // `*` in verbs, groups and resources, bound to a group the user is in.
            #expect(
                try await admin.post("\(rbac)/clusterroles", clusterRole("everything", rules: [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]]]))
                    .status == 201)
            #expect(
                try await admin.post(
                    "\(rbac)/clusterrolebindings",
                    binding(
                        "ClusterRoleBinding", "authenticated-everything", role: "everything",
                        subjects: [["kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"]])
                ).status == 201)
            #expect(try await alice.get("/api/v1/namespaces").status == 200)
            #expect(
                try await alice.patch("/apis/apps/v1/namespaces/team/statefulsets/db/scale", ["spec": ["replicas": 2]], type: "application/merge-patch+json")
                    .status == 200)
        }
    }

    @Test("a binding to a missing role is the reason given; the administrator bypasses RBAC; deleted accounts' tokens stop working")
    func missingRolesAdministratorsAndTokens() async throws {
        try await withRBACServer { server, admin in
            #expect(
                try await admin.post(
                    "\(rbac)/clusterrolebindings",
                    binding(
                        "ClusterRoleBinding", "alice-ghost", role: "ghost",
                        subjects: [["kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"]])
                ).status == 201)
            let alice = TestClient(server, token: "alice-token")
            let denied = try await alice.get("/api/v1/namespaces/team/secrets")
            #expect(
                denied.body["message"]
                    == "secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team\": RBAC: clusterrole.rbac.authorization.k8s.io \"ghost\" not found"
            )

            #expect(try await admin.get("/api/v1/namespaces/team/secrets").status == 200)
            #expect(try await admin.delete("/apis/apps/v1/namespaces/team/statefulsets/db").status == 200)

            // The TokenRequest API issues tokens as kubelet asks for them.
            let issued = try await admin.post(
                "/api/v1/namespaces/team/serviceaccounts/operator/token",
                ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 3600]])
            #expect(issued.status == 201)
            let token = issued.body["status"]?["token"]?.stringValue ?? ""
            #expect(!token.isEmpty)
            let account = TestClient(server, token: token)
            #expect(try await account.get("/apis/apps/v1/namespaces/team/statefulsets").status == 200)
            #expect(try await admin.delete("/api/v1/namespaces/team/serviceaccounts/operator").status == 200)
            #expect(try await account.get("/apis/apps/v1/namespaces/team/statefulsets").status == 401)
            #expect(
                try await admin.post(
                    "/api/v1/namespaces/team/serviceaccounts/nobody/token", ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest"]
                ).status == 404)
        }
    }

    @Test("without RBAC, a service-account token authenticates and may do anything")
    func serviceAccountTokenWithoutRBAC() async throws {
        var configuration = KubeSimConfiguration()
        configuration.tokens = ["admin-token": "admin"]
        try await withServer(configuration: configuration) { server, _ in
            let admin = TestClient(server, token: "admin-token")
            #expect(
                try await admin.post("/api/v1/namespaces/default/serviceaccounts", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "app"]])
                    .status == 201)
            let account = TestClient(server, token: try await server.serviceAccountToken(namespace: "default", name: "app"))
            #expect(try await account.post("/api/v1/namespaces/default/configmaps", configMap("c")).status == 201)
            #expect(try await TestClient(server, token: "forged").get("/api/v1/namespaces").status == 401)
            await #expect(throws: KubeSimError.self) { try await server.serviceAccountToken(namespace: "default", name: "missing") }
        }
    }
}
