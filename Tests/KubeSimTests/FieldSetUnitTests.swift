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

    /// The change walk visits only the units that differ, and must find what a walk of every leaf finds.
    @Test func theChangesAreWhatComparingEveryLeafFinds() {
        var withStatus = set
        withStatus["status"] = ["replicas": 2, "readyReplicas": 1]
        var ready = withStatus
        ready["status"]?["readyReplicas"] = 2
        var slimmer = ready
        slimmer["spec"]?["template"]?["spec"]?["containers"] = [["name": "db", "image": "qdrant/qdrant:v1.12.1"]]
        slimmer["metadata"]?["labels"] = nil
        slimmer["metadata"]?["annotations"] = ["note": "x"]
        for (old, new) in [(nil, set), (set, withStatus), (withStatus, ready), (ready, slimmer), (slimmer, set)] as [(JSONValue?, JSONValue)] {
            let changes = FieldSet.changes(from: old, to: new, schema: schema)
            let oldLeaves = old.map { FieldSet.leaves(of: $0, schema: schema) } ?? [:]
            let newLeaves = FieldSet.leaves(of: new, schema: schema)
            #expect(changes.changed == Set(newLeaves.filter { oldLeaves[$0.key] != $0.value }.keys))
            for path in oldLeaves.keys {
                #expect(changes.keeps(path) == (newLeaves[path] != nil), "\(path)")
            }
        }
        #expect(FieldSet.changes(from: withStatus, to: ready, schema: schema).differingUnits == [["f:status"]])
    }

    @Test func aManagerWritingItsFieldsAgainKeepsOneEntryWithTheNewTime() throws {
        var first = set
        first["status"] = ["replicas": 2, "readyReplicas": 1]
        ManagedFields.recordUpdate(
            old: set, new: &first, manager: "kubelet", apiVersion: "apps/v1", subresource: "status", schema: schema, now: "2026-12-05T09:00:00Z")
        var second = first
        second["status"]?["readyReplicas"] = 2
        ManagedFields.recordUpdate(
            old: first, new: &second, manager: "kubelet", apiVersion: "apps/v1", subresource: "status", schema: schema, now: "2026-12-05T09:01:00Z")
        let entries = ManagedFields.entries(of: second)
        let kubelet = try #require(entries.first { $0.manager == "kubelet" })
        #expect(entries.count { $0.manager == "kubelet" } == 1)
        #expect(kubelet.fields == [["f:status", "f:replicas"], ["f:status", "f:readyReplicas"]])
        #expect(kubelet.time == "2026-12-05T09:01:00Z")
        #expect(kubelet.json["fieldsV1"] == ["f:status": ["f:replicas": [:], "f:readyReplicas": [:]]])
    }
}
