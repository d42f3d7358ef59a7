import KubeKit
import KubeSim
import Testing

private let deployments = "/apis/apps/v1/namespaces/default/deployments"
private let pods = "/api/v1/namespaces/default/pods"
private let configMaps = "/api/v1/namespaces/default/configmaps"

private func pod(_ name: String, container: JSONValue) -> JSONValue {
    ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": ["containers": [container]]]
}

private func causes(_ response: TestResponse) -> [String: String] {
    var result: [String: String] = [:]
    for cause in response.body["details"]?["causes"]?.arrayValue ?? [] {
        if let field = cause["field"]?.stringValue { result[field] = cause["message"]?.stringValue ?? "" }
    }
    return result
}

@Suite("Built-in kinds are decoded and validated against the swagger")
struct BuiltinValidationTests {
    @Test("a value of the wrong type is a 400 in the Go decoder's words, on create and update")
    func wrongTypes() async throws {
        try await withServer { _, client in
            var bad = deployment("web")
            bad["spec"]?["replicas"] = "three"
            let created = try await client.post(deployments, bad)
            #expect(created.status == 400)
            #expect(created.reason == "BadRequest")
            #expect(
                created.body["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
            )

            let image = try await client.post(pods, pod("p", container: ["name": "app", "image": 5]))
            #expect(
                image.body["message"]
                    == "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string"
            )

            let spec = try await client.post(pods, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "q"], "spec": "none"])
            #expect(
                spec.body["message"]
                    == "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec")

            let labels = try await client.post(configMaps, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "labels": ["a": 1]]])
            #expect(
                labels.body["message"]
                    == "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
            )

            let fraction = try await client.post(
                deployments,
                {
                    var d = deployment("half")
                    d["spec"]?["replicas"] = 1.5
                    return d
                }())
            #expect(
                fraction.body["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"
            )

            var claim: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "data"],
                "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "ten gigs"]]],
            ]
            let quantity = try await client.post("/api/v1/namespaces/default/persistentvolumeclaims", claim)
            #expect(quantity.status == 400)
            #expect(
                quantity.body["message"]
                    == "PersistentVolumeClaim in version \"v1\" cannot be handled as a PersistentVolumeClaim: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            )
            claim["spec"]?["resources"]?["requests"]?["storage"] = "10Gi"
            #expect(try await client.post("/api/v1/namespaces/default/persistentvolumeclaims", claim).status == 201)

            let secret = try await client.post(
                "/api/v1/namespaces/default/secrets",
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["password": "not base64!"]])
            #expect(secret.body["message"] == "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3")

            #expect(try await client.post(deployments, deployment("web")).status == 201)
            var update = try await client.get("\(deployments)/web").body
            update["spec"]?["paused"] = "yes"
            let put = try await client.put("\(deployments)/web", update)
            #expect(put.status == 400)
            #expect(
                put.body["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"
            )
        }
    }

    @Test("unknown fields: rejected with Strict, a Warning header with Warn (the default), dropped silently with Ignore; never stored")
    func unknownFieldsOnCreateAndUpdate() async throws {
        try await withServer { _, client in
            var body = deployment("web")
            body["spec"]?["foo"] = 1
            body["spec"]?["template"]?["spec"]?["containers"] = [["name": "app", "image": "nginx:1", "colour": "blue"]]

            let strict = try await client.send(.POST, "\(deployments)?fieldValidation=Strict", body)
            #expect(strict.status == 400)
            #expect(
                strict.body["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.foo\", unknown field \"spec.template.spec.containers[0].colour\""
            )

            let warned = try await client.post(deployments, body)
            #expect(warned.status == 201)
            #expect(warned.warnings == ["299 - \"unknown field \\\"spec.foo\\\"\"", "299 - \"unknown field \\\"spec.template.spec.containers[0].colour\\\"\""])
            #expect(warned.body["spec"]?["foo"] == nil)
            let stored = try await client.get("\(deployments)/web")
            #expect(stored.body["spec"]?["foo"] == nil)
            #expect(stored.body["spec"]?["template"]?["spec"]?["containers"] == [["name": "app", "image": "nginx:1"]])

            var ignored = body
            ignored["metadata"]?["name"] = "quiet"
            let quiet = try await client.send(.POST, "\(deployments)?fieldValidation=Ignore", ignored)
            #expect(quiet.status == 201)
            #expect(quiet.warnings.isEmpty)
            #expect(quiet.body["spec"]?["foo"] == nil)

            var update = stored.body
            update["data"] = ["k": "v"]
            let put = try await client.send(.PUT, "\(deployments)/web?fieldValidation=Strict", update)
            #expect(put.status == 400)
            #expect(put.body["message"] == "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"data\"")
            let putWarned = try await client.put("\(deployments)/web", update)
            #expect(putWarned.status == 200)
            #expect(putWarned.warnings == ["299 - \"unknown field \\\"data\\\"\""])

            let badDirective = try await client.send(.POST, "\(configMaps)?fieldValidation=Loud", configMap("c"))
            #expect(badDirective.status == 422)
            #expect(
                badDirective.body["message"]
                    == "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loud\": supported values: \"Ignore\", \"Warn\", \"Strict\""
            )
        }
    }

    @Test("patches are judged after they are applied; apply rejects unknown fields whatever fieldValidation says")
    func unknownFieldsInPatches() async throws {
        try await withServer { _, client in
            #expect(try await client.post(deployments, deployment("web")).status == 201)
            let merge = try await client.send(
                .PATCH, "\(deployments)/web?fieldValidation=Strict", ["spec": ["foo": 1]],
                contentType: "application/merge-patch+json")
            #expect(merge.status == 422)
            #expect(merge.reason == "Invalid")
            let message = merge.body["message"]?.stringValue ?? ""
            #expect(message.hasPrefix(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"apps/v1\\\""))
            #expect(message.hasSuffix("\": strict decoding error: unknown field \"spec.foo\""))
            #expect(causes(merge)["patch"]?.hasSuffix("strict decoding error: unknown field \"spec.foo\"") == true)

            let typed = try await client.patch("\(deployments)/web", ["spec": ["replicas": "many"]], type: "application/merge-patch+json")
            #expect(typed.status == 422)
            #expect(
                typed.body["message"]?.stringValue?.hasSuffix(
                    "\": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32") == true)

            let strategic = try await client.send(
                .PATCH, "\(deployments)/web?fieldValidation=Strict", ["spec": ["foo": 1]],
                contentType: "application/strategic-merge-patch+json")
            #expect(strategic.status == 422)
            #expect(
                strategic.body["message"]
                    == " \"\" is invalid: patch: Invalid value: \"map[spec:map[foo:1]]\": strict decoding error: unknown field \"spec.foo\"")

            let warned = try await client.patch("\(deployments)/web", ["spec": ["foo": 1, "replicas": 2]], type: "application/merge-patch+json")
            #expect(warned.status == 200)
            #expect(warned.warnings == ["299 - \"unknown field \\\"spec.foo\\\"\""])
            #expect(warned.body["spec"]?["replicas"] == 2)
            #expect(warned.body["spec"]?["foo"] == nil)

            let jsonPatch = try await client.send(
                .PATCH, "\(deployments)/web?fieldValidation=Ignore", [["op": "add", "path": "/spec/bar", "value": true]],
                contentType: "application/json-patch+json")
            #expect(jsonPatch.status == 200)
            #expect(jsonPatch.warnings.isEmpty)
            #expect(jsonPatch.body["spec"]?["bar"] == nil)

            var applied = deployment("web")
            applied["spec"]?["template"]?["spec"]?["containers"] = [["name": "app", "image": "nginx:1", "colour": "blue"]]
            for validation in ["Strict", "Warn", "Ignore"] {
                let apply = try await client.send(
                    .PATCH, "\(deployments)/web?fieldManager=test&force=true&fieldValidation=\(validation)", applied,
                    contentType: "application/apply-patch+yaml")
                #expect(apply.status == 500)
                #expect(
                    apply.body["message"]
                        == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers[name=\"app\"].colour: field not declared in schema"
                )
            }
            var wrongType = deployment("web")
            wrongType["spec"]?["replicas"] = "lots"
            let apply = try await client.send(.PATCH, "\(deployments)/web?fieldManager=test", wrongType, contentType: "application/apply-patch+yaml")
            #expect(apply.status == 500)
            #expect(
                apply.body["message"]
                    == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string"
            )
        }
    }

    @Test("containers need a name and an image, workloads a selector that matches their template")
    func requiredValues() async throws {
        try await withServer { _, client in
            let noImage = try await client.post(pods, pod("p", container: ["name": "app"]))
            #expect(noImage.status == 422)
            #expect(noImage.body["message"] == "Pod \"p\" is invalid: spec.containers[0].image: Required value")
            let noContainers = try await client.post(pods, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": []]])
            #expect(noContainers.body["message"] == "Pod \"p\" is invalid: spec.containers: Required value")

            var statefulSet: JSONValue = [
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "db"],
                "spec": [
                    "serviceName": "db", "selector": ["matchLabels": ["app": "db"]],
                    "template": ["metadata": ["labels": ["app": "db"]], "spec": ["containers": [["image": "postgres:17"]]]],
                ],
            ]
            let noName = try await client.post("/apis/apps/v1/namespaces/default/statefulsets", statefulSet)
            #expect(noName.status == 422)
            #expect(noName.body["message"] == "StatefulSet.apps \"db\" is invalid: spec.template.spec.containers[0].name: Required value")
            statefulSet["spec"]?["template"]?["spec"]?["containers"] = [["name": "postgres", "image": "postgres:17"]]
            statefulSet["spec"]?["template"]?["metadata"]?["labels"] = ["app": "other"]
            let mismatch = try await client.post("/apis/apps/v1/namespaces/default/statefulsets", statefulSet)
            #expect(
                mismatch.body["message"]
                    == "StatefulSet.apps \"db\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
            )

            #expect(try await client.post(deployments, deployment("web")).status == 201)
            let patched = try await client.send(
                .PATCH, "\(deployments)/web",
                [["op": "replace", "path": "/spec/template/spec/containers/0/image", "value": ""]], contentType: "application/json-patch+json")
            #expect(patched.status == 422)
            #expect(patched.body["message"] == "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].image: Required value")
            #expect(causes(patched) == ["spec.template.spec.containers[0].image": "Required value"])
        }
    }

    @Test("a Secret's stringData is folded into data and its type defaults to Opaque")
    func secretStringData() async throws {
        try await withServer { _, client in
            let created = try await client.post(
                "/api/v1/namespaces/default/secrets",
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["a": "YQ=="], "stringData": ["b": "bee"]])
            #expect(created.status == 201)
            #expect(created.body["data"] == ["a": "YQ==", "b": "YmVl"])
            #expect(created.body["stringData"] == nil)
            #expect(created.body["type"] == "Opaque")
        }
    }
}
