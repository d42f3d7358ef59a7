import Foundation
import KubeKit
import Testing

@testable import KubeSim

@Suite struct UnitTests {
    @Test func labelSelectorParsing() throws {
        let selector = try LabelSelector(parsing: "app=web,tier in (a, b),!legacy,env notin (prod),zone")
        let labels: JSONValue = ["metadata": ["labels": ["app": "web", "tier": "b", "env": "dev", "zone": "z1"]]]
        #expect(selector.matches(labels))
        var legacy = labels
        legacy["metadata"]?["labels"]?["legacy"] = "1"
        #expect(!selector.matches(legacy))
        #expect(throws: LabelSelectorError.self) { try LabelSelector(parsing: "a in b") }
    }

    @Test func jsonPatchEdgeCases() throws {
        let document: JSONValue = ["list": [1, 2, 3], "a/b": ["~x": 1]]
        let patched = try JSONPatch.apply(
            [
                ["op": "add", "path": "/list/-", "value": 4],
                ["op": "remove", "path": "/list/0"],
                ["op": "test", "path": "/a~1b/~0x", "value": 1],
            ], to: document)
        #expect(patched["list"] == [2, 3, 4])
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply([["op": "remove", "path": "/missing"]], to: document) }
    }

    @Test func mergePatchFollowsRFC7386() {
        let result = MergePatch.apply(["a": ["b": .null, "c": "d"], "e": [1]], to: ["a": ["b": "x", "f": "g"], "e": [0, 0]])
        #expect(result == ["a": ["c": "d", "f": "g"], "e": [1]])
    }

    @Test func printerColumnPaths() {
        let object: JSONValue = [
            "status": ["conditions": [["type": "Ready", "status": "True"], ["type": "Other", "status": "False"]]], "spec": ["replicas": 3],
        ]
        #expect(SimpleJSONPath.evaluate(".status.conditions[?(@.type==\"Ready\")].status", in: object) == "True")
        #expect(SimpleJSONPath.evaluate(".spec.replicas", in: object) == 3)
        #expect(SimpleJSONPath.evaluate(".status.conditions[1].type", in: object) == "Other")
        #expect(TableConverter.age(of: "2024-01-01T00:00:00Z", now: Date(timeIntervalSince1970: 1_704_067_200 + 95)) == "95s")
        #expect(TableConverter.age(of: "2024-01-01T00:00:00Z", now: Date(timeIntervalSince1970: 1_704_067_200 + 3 * 3600 + 60)) == "3h1m")
    }

    @Test func registryReadsBuiltinsFromSwagger() {
        let registry = ResourceRegistry(builtin: Swagger.shared.builtinResources)
        let sts = registry.resource(group: "apps", version: "v1", plural: "statefulsets")
        #expect(sts?.kind == "StatefulSet")
        #expect(sts?.namespaced == true)
        #expect(sts?.subresources == ["status", "scale"])
        #expect(sts?.definition == "io.k8s.api.apps.v1.StatefulSet")
        #expect(registry.resource(group: "", version: "v1", plural: "nodes")?.namespaced == false)
        let schema = SchemaNavigator(resource: sts ?? registry.allStored[0])
        #expect(schema.listMapKeys(at: [.field("spec"), .field("template"), .field("spec"), .field("containers")]) == ["name"])
        #expect(
            schema.listMapKeys(at: [.field("spec"), .field("template"), .field("spec"), .field("containers"), .item, .field("ports")]) == [
                "containerPort", "protocol",
            ])
        #expect(VersionPriority.higher("v1", "v1beta1"))
        #expect(VersionPriority.higher("v2", "v1"))
        #expect(VersionPriority.higher("v1beta2", "v1alpha1"))
    }
}
