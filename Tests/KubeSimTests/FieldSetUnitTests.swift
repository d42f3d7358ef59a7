import KubeKit
import Testing

@testable import KubeSim

/// Field ownership bookkeeping that every write pays for: one walk finds each leaf's value, and an entry no write
/// touched keeps the `fieldsV1` it was read from.
@Suite struct FieldSetUnitTests {
    let schema: SchemaNavigator = {
        let registry = ResourceRegistry(builtin: Swagger.shared.builtinResources)
        return SchemaNavigator(resource: registry.resource(group: "apps", version: "v1", plural: "statefulsets")!)
    }()

    let set: JSONValue = [
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": ["name": "web", "labels": ["app": "web"], "resourceVersion": "7"],
        "spec": [
            "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
            "template": [
                "metadata": ["labels": ["app": "web"]],
                "spec": [
                    "containers": [
                        [
                            "name": "db", "image": "qdrant/qdrant:v1.12.0", "args": ["--a", "--b"],
                            "ports": [["containerPort": 6333, "protocol": "TCP", "name": "http"]], "env": [["name": "A", "value": "1"]],
                        ],
                        ["name": "sidecar", "image": "busybox", "resources": .object([:])],
                    ]
                ],
            ],
        ],
    ]

    @Test func eachLeafCarriesTheValueAPathLeadsTo() {
        let leaves = FieldSet.leaves(of: set, schema: schema)
        #expect(Set(leaves.keys) == FieldSet.paths(of: set, schema: schema))
        #expect(leaves.keys.contains(["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"db"}"#, "."]))
        #expect(leaves[["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"db"}"#, "f:args"]] == ["--a", "--b"])
        #expect(leaves[["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"sidecar"}"#, "f:resources"]] == .object([:]))
        #expect(!leaves.keys.contains(["f:metadata", "f:resourceVersion"]))
        for (path, value) in leaves {
            #expect(FieldSet.value(at: path, in: set) == value, "\(path)")
        }
    }

    @Test func anUntouchedEntryKeepsItsFieldsV1AndAChangedOneIsRenderedAgain() throws {
        var updated = set
        updated["spec"]?["replicas"] = 3
        var new = updated
        ManagedFields.recordUpdate(
            old: nil, new: &new, manager: "creator", apiVersion: "apps/v1", subresource: nil, schema: schema, now: "2026-12-05T09:00:00Z")
        let created = try #require(ManagedFields.entries(of: new).first)
        #expect(created.fields.contains(["f:spec", "f:replicas"]))

        var scaled = new
        scaled["spec"]?["replicas"] = 4
        ManagedFields.recordUpdate(
            old: new, new: &scaled, manager: "scaler", apiVersion: "apps/v1", subresource: nil, schema: schema, now: "2026-12-05T09:01:00Z")
        let entries = ManagedFields.entries(of: scaled)
        #expect(entries.map(\.manager) == ["creator", "scaler"])
        #expect(entries[0].fields == created.fields.subtracting([["f:spec", "f:replicas"]]))
        #expect(entries[0].json["fieldsV1"]?["f:spec"]?["f:replicas"] == nil)
        #expect(entries[1].fields == [["f:spec", "f:replicas"]])

        var relabelled = scaled
        relabelled["metadata"]?["annotations"] = ["note": "x"]
        ManagedFields.recordUpdate(
            old: scaled, new: &relabelled, manager: "annotator", apiVersion: "apps/v1", subresource: nil, schema: schema, now: "2026-12-05T09:02:00Z")
        let after = ManagedFields.entries(of: relabelled)
        // Nobody's fields moved but the annotator's own: the other entries are the ones written before.
        #expect(after.prefix(2).map(\.json) == entries.map(\.json))
        #expect(after.last?.fields == [["f:metadata", "f:annotations", "f:note"]])
    }
}
