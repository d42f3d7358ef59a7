import KubeKit
import KubeSim
import Testing

private let statefulSets = "/apis/apps/v1/namespaces/default/statefulsets"

private func statefulSet(_ name: String) -> JSONValue {
    [
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": .string(name)],
        "spec": [
            "replicas": 1, "serviceName": .string("\(name)-headless"), "selector": ["matchLabels": ["app": .string(name)]],
            "template": ["metadata": ["labels": ["app": .string(name)]], "spec": ["containers": [["name": "db", "image": "postgres:17"]]]],
            "volumeClaimTemplates": [
                ["metadata": ["name": "data"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
            ],
        ],
    ]
}

private func causes(_ response: TestResponse) -> [String: String] {
    var result: [String: String] = [:]
    for cause in response.body["details"]?["causes"]?.arrayValue ?? [] {
        if let field = cause["field"]?.stringValue { result[field] = cause["message"]?.stringValue ?? "" }
    }
    return result
}

@Suite("Fields an update may not change are rejected as kube-apiserver rejects them")
struct ImmutableFieldsTests {
    static let statefulSetForbidden =
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

    @Test("a StatefulSet's spec is fixed except replicas, template, update strategy and the like")
    func statefulSetSpec() async throws {
        try await withServer { _, client in
            #expect(try await client.post(statefulSets, statefulSet("db")).status == 201)
            let allowed = try await client.patch(
                "\(statefulSets)/db",
                [
                    "spec": [
                        "replicas": 3, "minReadySeconds": 5, "updateStrategy": ["type": "OnDelete"],
                        "template": ["spec": ["containers": [["name": "db", "image": "postgres:17.1"]]]],
                    ]
                ], type: "application/merge-patch+json")
            #expect(allowed.status == 200)

            for change: JSONValue in [
                ["spec": ["serviceName": "other"]],
                [
                    "spec": [
                        "volumeClaimTemplates": [
                            ["metadata": ["name": "data"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "2Gi"]]]]
                        ]
                    ]
                ],
                ["spec": ["podManagementPolicy": "Parallel"]],
            ] {
                let rejected = try await client.patch("\(statefulSets)/db", change, type: "application/merge-patch+json")
                #expect(rejected.status == 422)
                #expect(rejected.body["message"] == .string("StatefulSet.apps \"db\" is invalid: spec: \(Self.statefulSetForbidden)"))
                #expect(causes(rejected) == ["spec": Self.statefulSetForbidden])
            }
            var replaced = try await client.get("\(statefulSets)/db").body
            replaced["spec"]?["selector"] = ["matchLabels": ["app": "db", "tier": "x"]]
            replaced["spec"]?["template"]?["metadata"]?["labels"] = ["app": "db", "tier": "x"]
            #expect(try await client.put("\(statefulSets)/db", replaced).status == 422)
        }
    }

    @Test("a Deployment's selector is immutable")
    func deploymentSelector() async throws {
        try await withServer { _, client in
            let path = "/apis/apps/v1/namespaces/default/deployments"
            #expect(try await client.post(path, deployment("web")).status == 201)
            let rejected = try await client.patch(
                "\(path)/web",
                [
                    "spec": ["selector": ["matchLabels": ["app": "other"]], "template": ["metadata": ["labels": ["app": "other"]]]]
                ], type: "application/merge-patch+json")
            #expect(rejected.status == 422)
            #expect(
                rejected.body["message"]
                    == "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"other\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            )
            #expect(try await client.patch("\(path)/web", ["spec": ["replicas": 4]], type: "application/merge-patch+json").status == 200)
        }
    }

    @Test("a Service's cluster IP cannot change once allocated")
    func serviceClusterIP() async throws {
        try await withServer { _, client in
            let path = "/api/v1/namespaces/default/services"
            let service: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "db"], "spec": ["ports": [["port": 5432]]]]
            let created = try await client.post(path, service)
            let allocated = created.body["spec"]?["clusterIP"]?.stringValue ?? ""
            #expect(!allocated.isEmpty)

            let moved = try await client.patch("\(path)/db", ["spec": ["clusterIP": "10.96.0.99"]], type: "application/merge-patch+json")
            #expect(moved.status == 422)
            #expect(
                causes(moved) == [
                    "spec.clusterIP": "Invalid value: \"10.96.0.99\": field is immutable",
                    "spec.clusterIPs[0]": "Invalid value: \"10.96.0.99\": may not change once set",
                ])
            #expect(
                moved.body["message"]
                    == "Service \"db\" is invalid: [spec.clusterIP: Invalid value: \"10.96.0.99\": field is immutable, spec.clusterIPs[0]: Invalid value: \"10.96.0.99\": may not change once set]"
            )

            let ips = try await client.patch("\(path)/db", ["spec": ["clusterIPs": ["10.96.0.98"]]], type: "application/merge-patch+json")
            #expect(causes(ips) == ["spec.clusterIPs[0]": "Invalid value: \"10.96.0.98\": may not change once set"])

            // Leaving the allocated address out keeps it, and other fields stay mutable.
            var replaced = created.body
            replaced["spec"]?["clusterIP"] = nil
            replaced["spec"]?["clusterIPs"] = nil
            replaced["spec"]?["ports"] = [["port": 5433]]
            let updated = try await client.put("\(path)/db", replaced)
            #expect(updated.status == 200)
            #expect(updated.body["spec"]?["clusterIP"] == .string(allocated))
        }
    }

    @Test("a claim's spec is fixed, except that a bound claim's storage request may change")
    func persistentVolumeClaimSpec() async throws {
        try await withServer { _, client in
            let path = "/api/v1/namespaces/default/persistentvolumeclaims"
            let claim: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "data"],
                "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": ["requests": ["storage": "10Gi"]]],
            ]
            #expect(try await client.post(path, claim).status == 201)
            let message =
                "PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
            let storageClass = try await client.patch("\(path)/data", ["spec": ["storageClassName": "io2"]], type: "application/merge-patch+json")
            #expect(storageClass.status == 422)
            #expect(storageClass.body["message"] == .string(message))
            let unboundResize = try await client.patch(
                "\(path)/data", ["spec": ["resources": ["requests": ["storage": "20Gi"]]]], type: "application/merge-patch+json")
            #expect(unboundResize.body["message"] == .string(message))

            let bound = try await client.patch("\(path)/data/status", ["status": ["phase": "Bound"]], type: "application/merge-patch+json")
            #expect(bound.status == 200)
            let resize = try await client.patch(
                "\(path)/data", ["spec": ["resources": ["requests": ["storage": "20Gi"]]]], type: "application/merge-patch+json")
            #expect(resize.status == 200)
            #expect(resize.body["spec"]?["resources"]?["requests"]?["storage"] == "20Gi")
            #expect(try await client.patch("\(path)/data", ["spec": ["volumeName": "pv-1"]], type: "application/merge-patch+json").status == 200)
            #expect(try await client.patch("\(path)/data", ["spec": ["volumeName": "pv-2"]], type: "application/merge-patch+json").status == 422)
        }
    }

    @Test("ConfigMaps and Secrets marked immutable keep their data")
    func immutableConfigMapsAndSecrets() async throws {
        try await withServer { _, client in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            var frozen = configMap("frozen")
            frozen["immutable"] = true
            #expect(try await client.post(configMaps, frozen).status == 201)
            let changed = try await client.patch("\(configMaps)/frozen", ["data": ["k": "other"]], type: "application/merge-patch+json")
            #expect(changed.status == 422)
            #expect(changed.body["message"] == "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set")
            let thawed = try await client.patch("\(configMaps)/frozen", ["immutable": false, "data": ["k": "other"]], type: "application/merge-patch+json")
            #expect(
                causes(thawed) == [
                    "immutable": "Forbidden: field is immutable when `immutable` is set",
                    "data": "Forbidden: field is immutable when `immutable` is set",
                ])
            #expect(try await client.patch("\(configMaps)/frozen", ["metadata": ["labels": ["a": "b"]]], type: "application/merge-patch+json").status == 200)

            let secrets = "/api/v1/namespaces/default/secrets"
            let secret: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "immutable": true, "data": ["a": "YQ=="]]
            #expect(try await client.post(secrets, secret).status == 201)
            let retyped = try await client.patch("\(secrets)/s", ["type": "kubernetes.io/tls"], type: "application/merge-patch+json")
            // ValidateSecretUpdate also validates the new Secret: a TLS Secret needs both of its keys.
            #expect(
                causes(retyped) == [
                    "type": "Invalid value: \"kubernetes.io/tls\": field is immutable", "data[tls.crt]": "Required value",
                    "data[tls.key]": "Required value",
                ])
            let newData = try await client.patch("\(secrets)/s", ["stringData": ["b": "bee"]], type: "application/merge-patch+json")
            #expect(causes(newData) == ["data": "Forbidden: field is immutable when `immutable` is set"])
        }
    }
}
