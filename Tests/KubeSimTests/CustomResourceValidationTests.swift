import KubeKit
import KubeSim
import Testing

/// A CRD with one field of each kind of constraint the validator knows.
private let validatedWidgetCRD: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.example.com"],
    "spec": [
        "group": "example.com",
        "scope": "Namespaced",
        "names": ["kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true,
                "subresources": ["status": .object([:])],
                "schema": [
                    "openAPIV3Schema": [
                        "type": "object",
                        "properties": [
                            "apiVersion": ["type": "string"], "kind": ["type": "string"], "metadata": ["type": "object"],
                            "spec": [
                                "type": "object",
                                "required": ["owner", "parts"],
                                "properties": [
                                    "owner": [
                                        "type": "string", "pattern": "^[a-z]+$", "maxLength": 8,
                                        "x-kubernetes-validations": [["rule": "self == oldSelf", "message": "owner is immutable"]],
                                    ],
                                    "policy": ["type": "string", "enum": ["Keep", "Delete"], "default": "Delete"],
                                    "size": ["x-kubernetes-int-or-string": true, "anyOf": [["type": "integer"], ["type": "string"]]],
                                    "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                                    "extra": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                                    "parts": [
                                        "type": "array", "maxItems": 2,
                                        "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                        "items": [
                                            "type": "object", "required": ["name"],
                                            "properties": [
                                                "name": ["type": "string"],
                                                "count": ["type": "integer", "minimum": 0, "maximum": 10, "default": 1],
                                            ],
                                        ],
                                    ],
                                ],
                            ],
                            "status": ["type": "object", "properties": ["phase": ["type": "string"]]],
                        ],
                    ]
                ],
            ]
        ],
    ],
]

private func widget(_ spec: JSONValue, name: String = "w") -> JSONValue {
    ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)], "spec": spec]
}

private let widgets = "/apis/example.com/v1/namespaces/default/widgets"

private func causes(_ response: TestResponse) -> [String: String] {
    var result: [String: String] = [:]
    for cause in response.body["details"]?["causes"]?.arrayValue ?? [] {
        if let field = cause["field"]?.stringValue { result[field] = cause["message"]?.stringValue ?? "" }
    }
    return result
}

@Suite("Custom resources are validated against their CRD schema")
struct CustomResourceValidationTests {
    @Test("defaults are filled in and unknown fields pruned, except where unknown fields are preserved")
    func defaultsAndPruning() async throws {
        try await withServer { _, client in
            #expect(try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", validatedWidgetCRD).status == 201)
            let created = try await client.post(
                widgets,
                widget([
                    "owner": "ann", "parts": [["name": "a"]], "size": "10Gi", "unknown": true, "extra": ["anything": ["goes": 1]],
                    "labels": ["k": "v"],
                ]))
            #expect(created.status == 201)
            let spec = created.body["spec"]
            #expect(spec?["policy"] == "Delete")
            #expect(spec?["parts"] == [["name": "a", "count": 1]])
            #expect(spec?["unknown"] == nil)
            #expect(spec?["extra"] == ["anything": ["goes": 1]])
            #expect(spec?["size"] == "10Gi")
        }
    }

    @Test("every bad field is reported as the API server reports it")
    func invalidFields() async throws {
        try await withServer { _, client in
            _ = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", validatedWidgetCRD)
            let response = try await client.post(
                widgets,
                widget([
                    "owner": "Ann-Ex", "policy": "Shred", "size": true, "labels": ["k": 1],
                    "parts": [["name": "a", "count": -1], ["name": "a", "count": "many"], ["count": 11]],
                ]))
            #expect(response.status == 422)
            #expect(response.reason == "Invalid")
            let found = causes(response)
            #expect(found["spec.owner"] == "Invalid value: \"Ann-Ex\": spec.owner in body should match '^[a-z]+$'")
            #expect(found["spec.policy"] == "Unsupported value: \"Shred\": supported values: \"Keep\", \"Delete\"")
            #expect(found["spec.size"] == "Invalid value: \"boolean\": spec.size in body must be of type integer,string: \"boolean\"")
            #expect(found["spec.labels[k]"] == "Invalid value: \"integer\": spec.labels[k] in body must be of type string: \"integer\"")
            #expect(found["spec.parts"] == "Too many: 3: must have at most 2 items")
            #expect(found["spec.parts[0].count"] == "Invalid value: -1: spec.parts[0].count in body should be greater than or equal to 0")
            #expect(found["spec.parts[1]"] == "Duplicate value: {\"name\":\"a\"}")
            #expect(found["spec.parts[1].count"] == "Invalid value: \"string\": spec.parts[1].count in body must be of type integer: \"string\"")
            #expect(found["spec.parts[2].name"] == "Required value")
            #expect(found["spec.parts[2].count"] == "Invalid value: 11: spec.parts[2].count in body should be less than or equal to 10")
            let message = response.body["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Widget.example.com \"w\" is invalid: "))
            #expect(message.contains("spec.policy: Unsupported value: \"Shred\""))

            let long = try await client.post(widgets, widget(["owner": "abcdefghij", "parts": []]))
            #expect(causes(long)["spec.owner"] == "Too long: may not be more than 8 bytes")
            let missing = try await client.post(widgets, widget(["parts": []]))
            #expect(causes(missing) == ["spec.owner": "Required value"])
            let noSpec = try await client.post(widgets, ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "x"]])
            #expect(noSpec.status == 201, "spec itself is not required by this schema")
        }
    }

    @Test("self == oldSelf rejects a change on update, patch and apply, and allows keeping the value")
    func transitionRule() async throws {
        try await withServer { _, client in
            _ = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", validatedWidgetCRD)
            let created = try await client.post(widgets, widget(["owner": "ann", "parts": [["name": "a"]]]))
            #expect(created.status == 201)
            var changed = created.body
            changed["spec"]?["owner"] = "bob"
            let put = try await client.put("\(widgets)/w", changed)
            #expect(put.status == 422)
            #expect(causes(put) == ["spec.owner": "Invalid value: \"string\": owner is immutable"])
            let patch = try await client.patch("\(widgets)/w", ["spec": ["owner": "bob"]], type: "application/merge-patch+json")
            #expect(patch.status == 422)
            #expect(patch.body["message"]?.stringValue == "Widget.example.com \"w\" is invalid: spec.owner: Invalid value: \"string\": owner is immutable")
            let apply = try await client.send(
                .PATCH, "\(widgets)/w?fieldManager=test&force=true",
                widget(["owner": "bob", "parts": [["name": "a"]]]), contentType: "application/apply-patch+yaml")
            #expect(apply.status == 422)

            let kept = try await client.patch("\(widgets)/w", ["spec": ["policy": "Keep"]], type: "application/merge-patch+json")
            #expect(kept.status == 200)
            #expect(kept.body["spec"]?["policy"] == "Keep")
        }
    }

    @Test("the status subresource is validated too")
    func statusValidated() async throws {
        try await withServer { _, client in
            _ = try await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", validatedWidgetCRD)
            var object = try await client.post(widgets, widget(["owner": "ann", "parts": []])).body
            object["status"] = ["phase": 3]
            let response = try await client.put("\(widgets)/w/status", object)
            #expect(response.status == 422)
            #expect(causes(response)["status.phase"] != nil)
        }
    }
}
