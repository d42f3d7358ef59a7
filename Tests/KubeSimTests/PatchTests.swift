import KubeKit
import KubeSim
import Testing

@Suite struct PatchTests {
    let path = "/api/v1/namespaces/default/configmaps/p"

    @Test func mergePatch() async throws {
        try await withServer { _, client in
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("p", data: ["a": "1", "b": "2"]))
            let patched = try await client.patch(
                path, ["data": ["a": .null, "c": "3"], "metadata": ["labels": ["x": "y"]]],
                type: "application/merge-patch+json")
            #expect(patched.status == 200)
            #expect(patched.body["data"] == ["b": "2", "c": "3"])
            #expect(patched.body["metadata"]?["labels"]?["x"] == "y")
            let stale = try await client.patch(path, ["metadata": ["resourceVersion": "1"], "data": ["d": "4"]], type: "application/merge-patch+json")
            #expect(stale.status == 409)
            let absent = try await client.patch("/api/v1/namespaces/default/configmaps/none", ["data": ["a": "1"]], type: "application/merge-patch+json")
            #expect(absent.status == 404)
            let unknown = try await client.patch(path, ["data": ["a": "1"]], type: "text/plain")
            #expect(unknown.status == 415)
        }
    }

    @Test func jsonPatch() async throws {
        try await withServer { _, client in
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("p", data: ["a": "1"]))
            let operations: JSONValue = [
                ["op": "test", "path": "/data/a", "value": "1"],
                ["op": "add", "path": "/data/b", "value": "2"],
                ["op": "copy", "from": "/data/b", "path": "/data/c"],
                ["op": "move", "from": "/data/a", "path": "/data/m"],
                ["op": "replace", "path": "/data/b", "value": "22"],
                ["op": "remove", "path": "/data/c"],
            ]
            let patched = try await client.patch(path, operations, type: "application/json-patch+json")
            #expect(patched.status == 200)
            #expect(patched.body["data"] == ["b": "22", "m": "1"])
            let failedTest = try await client.patch(path, [["op": "test", "path": "/data/b", "value": "nope"]], type: "application/json-patch+json")
            #expect(failedTest.status == 422)
            let unchanged = try await client.get(path)
            #expect(unchanged.body["data"] == ["b": "22", "m": "1"])
        }
    }

    @Test func strategicMergePatchMergesContainersByName() async throws {
        try await withServer { _, client in
            var body = deployment("web")
            body["spec"]?["template"]?["spec"]?["containers"] = [["name": "app", "image": "a:1"], ["name": "side", "image": "s:1"]]
            try await client.post("/apis/apps/v1/namespaces/default/deployments", body)
            let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "side", "image": "s:2"], ["name": "app", "$patch": "delete"]]]]]]
            let patched = try await client.patch("/apis/apps/v1/namespaces/default/deployments/web", patch, type: "application/strategic-merge-patch+json")
            #expect(patched.status == 200)
            #expect(patched.body["spec"]?["template"]?["spec"]?["containers"] == [["name": "side", "image": "s:2"]])
        }
    }

    @Test func serverSideApplyOwnershipConflictsAndForce() async throws {
        try await withServer { _, client in
            let applyPath = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=alice"
            let yaml = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  labels: {tier: front}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: app
                        image: nginx:1
                """
            let created = try await client.send(.PATCH, applyPath, contentType: "application/apply-patch+yaml", rawBody: yaml)
            #expect(created.status == 201)
            let entries = created.body["metadata"]?["managedFields"]?.arrayValue ?? []
            #expect(entries.count == 1)
            #expect(entries.first?["manager"] == "alice")
            #expect(entries.first?["operation"] == "Apply")
            let fields = entries.first?["fieldsV1"]
            #expect(fields?["f:spec"]?["f:replicas"] == .object([:]))
            #expect(fields?["f:spec"]?["f:template"]?["f:spec"]?["f:containers"]?["k:{\"name\":\"app\"}"]?["f:image"] == .object([:]))

            // bob adds a sidecar: the containers list merges by name.
            let bob: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                "spec": ["template": ["spec": ["containers": [["name": "side", "image": "busybox"]]]]],
            ]
            let merged = try await client.patch("/apis/apps/v1/namespaces/default/deployments/web?fieldManager=bob", bob, type: "application/apply-patch+yaml")
            #expect(merged.status == 200)
            let names = merged.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["app", "side"])

            // bob changing alice's replicas conflicts...
            let grab: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": ["replicas": 5]]
            let conflict = try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=bob", grab, type: "application/apply-patch+yaml")
            #expect(conflict.status == 409)
            #expect(conflict.reason == "Conflict")
            #expect(conflict.body["message"] == "Apply failed with 1 conflict: conflict with \"alice\" using apps/v1: .spec.replicas")
            #expect(conflict.body["details"]?["causes"]?.arrayValue?.first?["field"] == ".spec.replicas")
            // ...unless forced, which moves ownership to bob.
            let forced = try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=bob&force=true", grab, type: "application/apply-patch+yaml")
            #expect(forced.status == 200)
            #expect(forced.body["spec"]?["replicas"] == 5)
            #expect(forced.body["metadata"]?["generation"] == 3)
            let aliceEntry = forced.body["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == "alice" }
            #expect(aliceEntry?["fieldsV1"]?["f:spec"]?["f:replicas"] == nil)
            // bob's applied config no longer lists the sidecar, so it is removed.
            let containers = forced.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(containers == ["app"])
            #expect(forced.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.count == 1)

            // An Update by another manager to an applied field also conflicts for the next apply.
            try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=carol",
                ["metadata": ["labels": ["tier": "back"]]], type: "application/merge-patch+json")
            let reapply = try await client.send(.PATCH, applyPath, contentType: "application/apply-patch+yaml", rawBody: yaml)
            #expect(reapply.status == 409)
            #expect(
                reapply.body["message"]?.stringValue?.hasPrefix("Apply failed with 2 conflicts: conflicts with \"bob\" using apps/v1:\n- .spec.replicas")
                    == true)
            #expect(reapply.body["message"]?.stringValue?.contains("conflicts with \"carol\" using apps/v1:\n- .metadata.labels.tier") == true)

            let noManager = try await client.patch("/apis/apps/v1/namespaces/default/deployments/web", grab, type: "application/apply-patch+yaml")
            #expect(noManager.status == 400)
            let dry = try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=bob&force=true&dryRun=All",
                ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": ["replicas": 9]], type: "application/apply-patch+yaml")
            #expect(dry.body["spec"]?["replicas"] == 9)
            #expect(try await client.get("/apis/apps/v1/namespaces/default/deployments/web").body["spec"]?["replicas"] == 5)
        }
    }

    /// What a manager applied before and leaves out now goes, as a real API server removes it: map keys, atomic
    /// lists, and items of associative lists (containers and volumes by name, env by name, ports by port and
    /// protocol); another manager's fields stay.
    @Test func serverSideApplyRemovesWhatAManagerNoLongerApplies() async throws {
        try await withServer { _, client in
            let deploymentPath = "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=op&force=true"
            let servicePath = "/api/v1/namespaces/default/services/web?fieldManager=op&force=true"
            #expect(try await client.patch(deploymentPath, Self.appliedDeployment(full: true), type: "application/apply-patch+yaml").status == 201)
            #expect(try await client.patch(servicePath, Self.appliedService(full: true), type: "application/apply-patch+yaml").status == 201)
            try await client.patch(
                "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=person",
                ["metadata": ["annotations": ["theirs": "kept"]]], type: "application/merge-patch+json")

            let deployment = try await client.patch(deploymentPath, Self.appliedDeployment(full: false), type: "application/apply-patch+yaml")
            #expect(deployment.status == 200)
            #expect(deployment.body["metadata"]?["annotations"] == ["kept": "yes", "theirs": "kept"])
            let podSpec = deployment.body["spec"]?["template"]?["spec"]
            #expect(podSpec?["volumes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["data"])
            let containers = podSpec?["containers"]?.arrayValue ?? []
            #expect(containers.compactMap { $0["name"]?.stringValue } == ["app"])
            #expect(containers.first?["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["KEPT"])
            #expect(containers.first?["ports"]?.arrayValue?.compactMap { $0["containerPort"]?.intValue } == [80])
            #expect(containers.first?["volumeMounts"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["data"])

            let service = try await client.patch(servicePath, Self.appliedService(full: false), type: "application/apply-patch+yaml")
            #expect(service.status == 200)
            #expect(service.body["metadata"]?["annotations"] == nil)
            #expect(service.body["spec"]?["loadBalancerSourceRanges"] == nil)
            #expect(service.body["spec"]?["ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } == [80])
        }
    }

    static func appliedDeployment(full: Bool) -> JSONValue {
        var container: JSONValue = [
            "name": "app", "image": "nginx:1",
            "env": [["name": "KEPT", "value": "1"]],
            "ports": [["containerPort": 80, "protocol": "TCP"]],
            "volumeMounts": [["name": "data", "mountPath": "/data"]],
        ]
        var volumes: JSONValue = [["name": "data", "emptyDir": [:]]]
        var annotations: JSONValue = ["kept": "yes"]
        var containers: [JSONValue] = []
        if full {
            container["env"] = [["name": "KEPT", "value": "1"], ["name": "GONE", "value": "2"]]
            container["ports"] = [["containerPort": 80, "protocol": "TCP"], ["containerPort": 81, "protocol": "TCP"]]
            container["volumeMounts"] = [["name": "data", "mountPath": "/data"], ["name": "scratch", "mountPath": "/scratch"]]
            volumes = [["name": "data", "emptyDir": [:]], ["name": "scratch", "emptyDir": [:]]]
            annotations["gone"] = "yes"
            containers = [["name": "sidecar", "image": "busybox"]]
        }
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "annotations": annotations],
            "spec": [
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["containers": .array([container] + containers), "volumes": volumes],
                ],
            ],
        ]
    }

    static func appliedService(full: Bool) -> JSONValue {
        var spec: JSONValue = ["type": "LoadBalancer", "selector": ["app": "web"], "ports": [["name": "http", "port": 80, "protocol": "TCP"]]]
        var metadata: JSONValue = ["name": "web"]
        if full {
            spec["ports"] = [["name": "http", "port": 80, "protocol": "TCP"], ["name": "grpc", "port": 81, "protocol": "TCP"]]
            spec["loadBalancerSourceRanges"] = ["10.0.0.0/8"]
            metadata["annotations"] = ["service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8"]
        }
        return ["apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec]
    }
}
