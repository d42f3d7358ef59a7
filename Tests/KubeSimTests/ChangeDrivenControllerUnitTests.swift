import KubeKit
import Testing

@testable import KubeSim

/// The pieces that let the simulated controllers look only at what a change touches.
@Suite struct ChangeDrivenControllerUnitTests {
    func object(
        _ name: String, namespace: String = "default", labels: [String: String] = [:], controller: (kind: String, name: String, uid: String)? = nil
    ) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels.mapValues(JSONValue.string))]
        if let controller {
            metadata["ownerReferences"] = [
                [
                    "apiVersion": "apps/v1", "kind": .string(controller.kind), "name": .string(controller.name), "uid": .string(controller.uid),
                    "controller": true,
                ]
            ]
        }
        return ["metadata": .object(metadata)]
    }

    @Test func storeChangesKeepTheLatestStateOfEachObject() {
        var changes = StoreChanges.nothing
        #expect(changes.isEmpty)
        changes.record(.pods, type: "ADDED", object: object("b", labels: ["v": "1"]))
        changes.record(.pods, type: "MODIFIED", object: object("b", labels: ["v": "2"]))
        changes.record(.pods, type: "DELETED", object: object("a"))
        changes.record(.services, type: "ADDED", object: object("s"))
        let pods = changes.changed(.pods)
        #expect(pods.map(\.object.metadataName) == ["a", "b"])
        #expect(pods.map(\.deleted) == [true, false])
        #expect(pods[1].object.labels == ["v": "2"])
        #expect(changes.changed(.services).count == 1)
        #expect(changes.changed(.endpoints).isEmpty)

        var due = StoreChanges.nothing
        due.markDue()
        #expect(due.isDue && !due.isEmpty && !due.everything)

        var everything = StoreChanges.everything
        #expect(!everything.isEmpty)
        // Everything is looked at anyway: single objects are not kept.
        everything.record(.pods, type: "ADDED", object: object("c"))
        #expect(everything.changed(.pods).isEmpty)
    }

    @Test func aPodOrClaimConcernsItsControllerOrTheSetsItIsNamedAfter() {
        #expect(StatefulSetController.namedAfter("web-0") == ["web"])
        #expect(StatefulSetController.namedAfter("data-bench-1-qdrant-12") == ["data-bench-1-qdrant", "bench-1-qdrant", "1-qdrant", "qdrant"])
        #expect(StatefulSetController.namedAfter("web") == [])
        #expect(StatefulSetController.namedAfter("web-x") == [])

        var changes = StoreChanges.nothing
        changes.record(.statefulSets, type: "MODIFIED", object: object("db"))
        changes.record(.statefulSets, type: "DELETED", object: object("gone"))
        changes.record(.pods, type: "MODIFIED", object: object("web-0", controller: ("StatefulSet", "web", "u1")))
        changes.record(.pods, type: "ADDED", object: object("api-7f9-x", controller: ("ReplicaSet", "api-7f9", "u2")))
        changes.record(.pods, type: "ADDED", object: object("cache-3", namespace: "other"))
        changes.record(.persistentVolumeClaims, type: "ADDED", object: object("data-db-0"))
        let names = StatefulSetController.setsConcerned(by: changes).map { "\($0.namespace)/\($0.name)" }
        #expect(names == ["default/data-db", "default/db", "default/web", "other/cache"])
    }

    @Test func theControllerIndexFollowsEveryCommit() {
        var index = ControllerIndex()
        let name = ObjectName(namespace: "default", name: "web-0")
        index.update(name, old: nil, new: object("web-0"))
        #expect(index.names(controlledBy: "") == [name])
        let adopted = object("web-0", controller: ("StatefulSet", "web", "u1"))
        index.update(name, old: object("web-0"), new: adopted)
        #expect(index.names(controlledBy: "").isEmpty)
        #expect(index.names(controlledBy: "u1") == [name])
        index.update(name, old: adopted, new: nil)
        #expect(index.names(controlledBy: "u1").isEmpty)
    }

    @Test func aLabelIndexFindsWhatASelectorMatches() {
        var index = LabelIndex()
        let a = ObjectName(namespace: "default", name: "a")
        let b = ObjectName(namespace: "default", name: "b")
        let elsewhere = ObjectName(namespace: "other", name: "a")
        index.set(a, labels: ["app": "web", "tier": "db"])
        index.set(b, labels: ["app": "web"])
        index.set(elsewhere, labels: ["app": "web", "tier": "db"])
        #expect(index.names(in: "default", matching: ["app": "web"]) == [a, b])
        #expect(index.names(in: "default", matching: ["app": "web", "tier": "db"]) == [a])
        #expect(index.set(a, labels: ["app": "api"]) == ["app": "web", "tier": "db"])
        #expect(index.names(in: "default", matching: ["app": "web", "tier": "db"]) == [])
        #expect(index.names(in: "default", matching: ["app": "api"]) == [a])
        index.set(b, labels: nil)
        #expect(index.names(in: "default", matching: ["app": "web"]) == [])
        #expect(index.labels(of: b) == nil)
    }

    @Test func aSelectorIndexFindsTheServicesSelectingAPod() {
        var index = SelectorIndex()
        let names = (0..<50).map { ObjectName(namespace: "default", name: "svc-\($0)") }
        for (number, name) in names.enumerated() {
            index.set(name, selector: ["managed-by": "vb", "instance": "c\(number)"])
        }
        let headless = ObjectName(namespace: "default", name: "all")
        index.set(headless, selector: ["managed-by": "vb"])
        index.set(ObjectName(namespace: "default", name: "manual"), selector: [:])
        let pod = ["managed-by": "vb", "instance": "c7", "pod-name": "c7-0"]
        #expect(index.services(in: "default", selecting: pod) == [names[7], headless])
        #expect(index.services(in: "other", selecting: pod).isEmpty)
        #expect(index.services(in: "default", selecting: ["instance": "c7"]).isEmpty)
        index.set(names[7], selector: ["managed-by": "vb", "instance": "c8"])
        #expect(index.services(in: "default", selecting: pod) == [headless])
        index.set(headless, selector: nil)
        #expect(index.services(in: "default", selecting: pod).isEmpty)
        #expect(index.selector(of: names[8]) == ["managed-by": "vb", "instance": "c8"])
    }
}
