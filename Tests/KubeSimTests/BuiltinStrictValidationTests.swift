import KubeKit
import Testing

@testable import KubeSim

private let services = "/api/v1/namespaces/default/services"
private let budgets = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
private let statefulSets = "/apis/apps/v1/namespaces/default/statefulsets"
private let pods = "/api/v1/namespaces/default/pods"

private func service(_ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var object: JSONValue = [
        "apiVersion": "v1", "kind": "Service", "metadata": ["name": "vectors"],
        "spec": ["selector": ["app": "qdrant"], "ports": [["name": "http", "port": 6333, "targetPort": "http"]]],
    ]
    edit(&object)
    return object
}

private func budget(_ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var object: JSONValue = [
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": "vectors"],
        "spec": ["maxUnavailable": 1, "selector": ["matchLabels": ["app": "qdrant"]]],
    ]
    edit(&object)
    return object
}

private func container(port: Int64 = 6333, mount: String = "data") -> JSONValue {
    [
        "name": "qdrant", "image": "qdrant/qdrant:v1.19.0", "ports": [["name": "http", "containerPort": .int(port)]],
        "volumeMounts": [["name": .string(mount), "mountPath": "/qdrant/storage"]],
    ]
}

private func statefulSet(_ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
    var object: JSONValue = [
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "vectors"],
        "spec": [
            "serviceName": "vectors", "selector": ["matchLabels": ["app": "qdrant"]],
            "template": [
                "metadata": ["labels": ["app": "qdrant"]],
                "spec": ["containers": [container()]],
            ],
            "volumeClaimTemplates": [
                ["metadata": ["name": "data"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
            ],
        ],
    ]
    edit(&object)
    return object
}

/// The only cause of a 422, as `(field, reason, message)`.
private func onlyCause(_ response: TestResponse) -> [String] {
    let causes = response.body["details"]?["causes"]?.arrayValue ?? []
    guard causes.count == 1, let cause = causes.first else { return ["\(causes.count) causes: \(response.body)"] }
    return [cause["field"]?.stringValue ?? "", cause["reason"]?.stringValue ?? "", cause["message"]?.stringValue ?? ""]
}

private let labelValueRule =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

@Suite("Built-in kinds are refused where kube-apiserver refuses them, with its field paths and wording")
struct BuiltinStrictValidationTests {
    @Test("Service: enumerations, ports, target ports and selector values (the cases of issue 16)")
    func serviceCases() async throws {
        try await withServer { _, client in
            let type = try await client.post(services, service { $0["spec"]?["type"] = "Internal" })
            #expect(type.status == 422)
            #expect(type.reason == "Invalid")
            #expect(type.body["details"]?["kind"] == "Service")
            #expect(
                type.body["message"]
                    == "Service \"vectors\" is invalid: spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            )
            #expect(
                onlyCause(type) == [
                    "spec.type", "FieldValueNotSupported",
                    "Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                ])

            let expectations: [(JSONValue, [String])] = [
                (
                    service { $0["spec"]?["ports"] = [["name": "http", "port": 6333, "protocol": "HTTP"]] },
                    [
                        "spec.ports[0].protocol", "FieldValueNotSupported",
                        "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    ]
                ),
                (
                    service { $0["spec"]?["ipFamilyPolicy"] = "DualStack" },
                    [
                        "spec.ipFamilyPolicy", "FieldValueNotSupported",
                        "Unsupported value: \"DualStack\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"",
                    ]
                ),
                (
                    service { $0["spec"]?["internalTrafficPolicy"] = "Node" },
                    ["spec.internalTrafficPolicy", "FieldValueNotSupported", "Unsupported value: \"Node\": supported values: \"Cluster\", \"Local\""]
                ),
                (
                    service { $0["spec"]?["ports"] = [["name": "http", "port": 6333, "targetPort": -1]] },
                    ["spec.ports[0].targetPort", "FieldValueInvalid", "Invalid value: -1: must be between 1 and 65535, inclusive"]
                ),
                (
                    service { $0["spec"]?["ports"] = [["name": "http", "port": 6333, "targetPort": "WipeOut"]] },
                    [
                        "spec.ports[0].targetPort", "FieldValueInvalid",
                        "Invalid value: \"WipeOut\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                    ]
                ),
                (service { $0["spec"]?["ports"] = nil }, ["spec.ports", "FieldValueRequired", "Required value"]),
                (
                    service { $0["spec"]?["ports"] = [["name": "http", "port": 6333], ["port": 6334]] },
                    ["spec.ports[1].name", "FieldValueRequired", "Required value"]
                ),
                (
                    service { $0["spec"]?["selector"] = ["app": "qdrant cluster"] },
                    ["spec.selector", "FieldValueInvalid", "Invalid value: \"qdrant cluster\": \(labelValueRule)"]
                ),
            ]
            for (body, expected) in expectations {
                let response = try await client.post(services, body)
                #expect(response.status == 422)
                #expect(onlyCause(response) == expected)
            }

            // A target port of 0 is defaulted to the port, as SetDefaults_Service does, and a headless Service needs no ports.
            let defaulted = try await client.post(services, service { $0["spec"]?["ports"] = [["name": "http", "port": 6333, "targetPort": 0]] })
            #expect(defaulted.status == 201)
            #expect(defaulted.body["spec"]?["ports"]?[0]?["targetPort"] == 6333)
            var headless = service { $0["spec"]?["ports"] = nil }
            headless["metadata"]?["name"] = "vectors-headless"
            headless["spec"]?["clusterIP"] = "None"
            #expect(try await client.post(services, headless).status == 201)
        }
    }

    @Test("PodDisruptionBudget: minAvailable a count or a percentage, matchLabels valid label values")
    func podDisruptionBudgetCases() async throws {
        try await withServer { _, client in
            let quantity = try await client.post(
                budgets,
                budget {
                    $0["spec"]?["maxUnavailable"] = nil
                    $0["spec"]?["minAvailable"] = "-5Gi"
                })
            #expect(quantity.status == 422)
            #expect(
                onlyCause(quantity) == [
                    "spec.minAvailable", "FieldValueInvalid",
                    "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"-5Gi\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                ])
            #expect(quantity.body["message"]?.stringValue?.hasPrefix("PodDisruptionBudget.policy \"vectors\" is invalid: spec.minAvailable: ") == true)

            let accented = try await client.post(budgets, budget { $0["spec"]?["selector"]?["matchLabels"] = ["app": "crème"] })
            #expect(onlyCause(accented) == ["spec.selector.matchLabels", "FieldValueInvalid", "Invalid value: \"crème\": \(labelValueRule)"])

            let long = String(repeating: "q", count: 64)
            let tooLong = try await client.post(budgets, budget { $0["spec"]?["selector"]?["matchLabels"] = ["app": .string(long)] })
            #expect(onlyCause(tooLong) == ["spec.selector.matchLabels", "FieldValueInvalid", "Invalid value: \"\(long)\": must be no more than 63 characters"])

            let overFull = try await client.post(budgets, budget { $0["spec"]?["maxUnavailable"] = "150%" })
            #expect(
                onlyCause(overFull) == [
                    "spec.maxUnavailable", "FieldValueInvalid",
                    "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%",
                ])

            #expect(try await client.post(budgets, budget { $0["spec"]?["maxUnavailable"] = "50%" }).status == 201)
        }
    }

    @Test("StatefulSet: container ports in range, volume mounts naming a volume or a claim template")
    func statefulSetCases() async throws {
        try await withServer { _, client in
            let port = try await client.post(
                statefulSets, statefulSet { $0["spec"]?["template"]?["spec"]?["containers"] = [container(port: -1)] })
            #expect(port.status == 422)
            #expect(
                port.body["message"]
                    == "StatefulSet.apps \"vectors\" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: -1: must be between 1 and 65535, inclusive"
            )

            let mount = try await client.post(
                statefulSets, statefulSet { $0["spec"]?["template"]?["spec"]?["containers"] = [container(mount: "snapshots")] })
            #expect(onlyCause(mount) == ["spec.template.spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", "Not found: \"snapshots\""])

            let policy = try await client.post(statefulSets, statefulSet { $0["spec"]?["podManagementPolicy"] = "AllAtOnce" })
            #expect(
                onlyCause(policy) == ["spec.podManagementPolicy", "FieldValueInvalid", "Invalid value: \"AllAtOnce\": must be 'OrderedReady' or 'Parallel'"])

            let restart = try await client.post(statefulSets, statefulSet { $0["spec"]?["template"]?["spec"]?["restartPolicy"] = "Never" })
            #expect(
                onlyCause(restart) == [
                    "spec.template.spec.restartPolicy", "FieldValueNotSupported", "Unsupported value: \"Never\": supported values: \"Always\"",
                ])

            let created = try await client.post(statefulSets, statefulSet())
            #expect(created.status == 201)
        }
    }

    @Test("pods: env valueFrom has exactly one source, names and policies follow their rules, several causes in one answer")
    func podCases() async throws {
        try await withServer { _, client in
            func pod(_ container: JSONValue, _ edit: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
                var object: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [container]]]
                edit(&object)
                return object
            }
            let both = try await client.post(
                pods,
                pod([
                    "name": "app", "image": "busybox",
                    "env": [
                        [
                            "name": "URL",
                            "valueFrom": [
                                "secretKeyRef": ["name": "src", "key": "url"], "configMapKeyRef": ["name": "cfg", "key": "url"],
                            ],
                        ]
                    ],
                ]))
            #expect(
                onlyCause(both) == [
                    "spec.containers[0].env[0].valueFrom", "FieldValueInvalid", "Invalid value: \"\": may not have more than one field specified at a time",
                ])

            let none = try await client.post(pods, pod(["name": "app", "image": "busybox", "env": [["name": "URL", "valueFrom": .object([:])]]]))
            #expect(
                onlyCause(none) == [
                    "spec.containers[0].env[0].valueFrom", "FieldValueInvalid",
                    "Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                ])

            let several = try await client.post(
                pods,
                pod(["name": "App", "image": "busybox", "imagePullPolicy": "Sometimes"]) {
                    $0["spec"]?["restartPolicy"] = "Sometimes"
                    $0["metadata"]?["labels"] = ["tier/a/b": "x"]
                })
            #expect(several.status == 422)
            let fields = (several.body["details"]?["causes"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
            #expect(fields == ["metadata.labels", "spec.containers[0].name", "spec.containers[0].imagePullPolicy", "spec.restartPolicy"])
            let message = several.body["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Pod \"p\" is invalid: [metadata.labels: Invalid value: \"tier/a/b\": a qualified name must consist of"))
            #expect(message.contains("spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]"))
            #expect(
                message.contains(
                    "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""))
        }
    }

    @Test("the other kinds the operator writes: claims, RBAC, Leases, Events, HPAs, ConfigMap and Secret keys")
    func otherKinds() async throws {
        try await withServer { _, client in
            let claim = try await client.post(
                "/api/v1/namespaces/default/persistentvolumeclaims",
                ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "c"], "spec": ["accessModes": ["ReadWriteSometimes"]]])
            let claimCauses = (claim.body["details"]?["causes"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
            #expect(
                claimCauses == [
                    "Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                    "Required value",
                ])

            let binding = try await client.post(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "b"],
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"],
                    "subjects": [["kind": "Robot", "name": "r2d2"]],
                ])
            #expect(
                onlyCause(binding) == [
                    "subjects[0].kind", "FieldValueNotSupported", "Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
                ])

            let role = try await client.post(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
                [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "r"],
                    "rules": [["apiGroups": [""], "resources": ["pods"]]],
                ])
            #expect(onlyCause(role) == ["rules[0].verbs", "FieldValueRequired", "Required value: verbs must contain at least one value"])

            let lease = try await client.post(
                "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "l"], "spec": ["leaseDurationSeconds": 0]])
            #expect(onlyCause(lease) == ["spec.leaseDurationSeconds", "FieldValueInvalid", "Invalid value: 0: must be greater than 0"])

            let event = try await client.post(
                "/api/v1/namespaces/default/events",
                [
                    "apiVersion": "v1", "kind": "Event", "metadata": ["name": "e"], "reason": "Test", "type": "Normal",
                    "involvedObject": ["kind": "Pod", "name": "p", "namespace": "other"],
                ])
            #expect(onlyCause(event) == ["involvedObject.namespace", "FieldValueInvalid", "Invalid value: \"other\": does not match event.namespace"])

            let autoscaler = try await client.post(
                "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
                [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "h"],
                    "spec": [
                        "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "emu"], "minReplicas": 1, "maxReplicas": 3,
                        "metrics": [["type": "Cpu"]],
                    ],
                ])
            #expect(
                onlyCause(autoscaler) == [
                    "spec.metrics[0].type", "FieldValueNotSupported",
                    "Unsupported value: \"Cpu\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
                ])

            let badName = try await client.post("/api/v1/namespaces/default/configmaps", configMap("Bad_Name", data: [:]))
            #expect(
                onlyCause(badName) == [
                    "metadata.name", "FieldValueInvalid",
                    "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ])
            let dottedNamespace = try await client.post("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team.a"]])
            #expect(onlyCause(dottedNamespace) == ["metadata.name", "FieldValueInvalid", "Invalid value: \"team.a\": must not contain dots"])

            let keys = try await client.post("/api/v1/namespaces/default/configmaps", configMap("c", data: ["a/b": "x"]))
            #expect(
                onlyCause(keys) == [
                    "data[a/b]", "FieldValueInvalid",
                    "Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                ])

            let tls = try await client.post(
                "/api/v1/namespaces/default/secrets",
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "t"], "type": "kubernetes.io/tls", "stringData": ["tls.crt": "x"]])
            #expect(onlyCause(tls) == ["data[tls.key]", "FieldValueRequired", "Required value"])
        }
    }

    @Test("format checks word their messages as apimachinery's validation does")
    func formats() {
        #expect(ValueFormats.portName("WipeOut") == ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"])
        #expect(ValueFormats.portName("a--very-long-port-name") == ["must be no more than 15 characters", "must not contain consecutive hyphens"])
        #expect(ValueFormats.portName("6333") == ["must contain at least one letter (a-z)"])
        #expect(ValueFormats.portName("-http") == ["must not begin or end with a hyphen"])
        #expect(ValueFormats.dns1123Label("a.b") == ["must not contain dots"])
        #expect(ValueFormats.qualifiedName("example.com/app").isEmpty)
        #expect(ValueFormats.qualifiedName("/app") == ["prefix part must be non-empty"])
        #expect(ValueFormats.labelValue("").isEmpty)
        #expect(ValueFormats.labelValue("ends-\n") != [])
        #expect(ValueFormats.percent("25%").isEmpty)
        #expect(ValueFormats.configMapKey("..data") == ["must not start with '..'"])
        #expect(Enumerations.values("core.v1.ServiceSpec", "type") == ["ExternalName", "ClusterIP", "NodePort", "LoadBalancer"])
    }
}
