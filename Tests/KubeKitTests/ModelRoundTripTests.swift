import Foundation
import KubeKit
import Testing

/// Decoding a manifest into the generated models and encoding it back must give the same JSON, field for field:
/// the operator reads, changes and writes back objects, and a dropped field would be erased in the cluster.
@Suite struct ModelRoundTripTests {
    @Test func statefulSetWithEveryMajorFieldGroupRoundTrips() throws {
        let (original, model, encoded) = try roundTrip(AppsV1.StatefulSet.self, fixture: "statefulset")
        expectEqualJSON(encoded, original)
        #expect(model.spec?.template.spec?.affinity?.podAntiAffinity != nil)
        #expect(model.spec?.updateStrategy?.rollingUpdate?.maxUnavailable == "34%")
        #expect(model.spec?.volumeClaimTemplates?.first?.spec?.resources?.requests?["storage"] == "20Gi")
        #expect(model.metadata?.creationTimestamp?.rfc3339 == "2026-11-20T09:14:03Z")
        #expect(model.name == "vectors-qdrant")
        #expect(model.namespace == "search")
    }

    @Test func qdrantPodSpecRoundTrips() throws {
        let (original, model, encoded) = try roundTrip(CoreV1.Pod.self, fixture: "qdrant-pod")
        expectEqualJSON(encoded, original)
        let container = try #require(model.spec?.containers.first)
        #expect(container.livenessProbe?.httpGet?.port == .string("tcp-qdrant"))
        #expect(container.lifecycle?.preStop?.exec?.command == ["/qdrant/scripts/pre-stop.sh"])
        #expect(container.env?.last?.valueFrom?.secretKeyRef?.key == "apiKey")
        let scripts = try #require(model.spec?.volumes?.first { $0.name == "scripts" })
        #expect(scripts.configMap?.defaultMode == 0o555)
    }

    @Test func customResourceDefinitionWithNestedSchemaRoundTrips() throws {
        let (original, model, encoded) = try roundTrip(ApiextensionsV1.CustomResourceDefinition.self, fixture: "crd")
        expectEqualJSON(encoded, original)
        let root = try #require(model.spec.versions.first?.schema?.openAPIV3Schema)
        let spec = try #require(root.properties?["spec"])
        #expect(spec.xKubernetesValidations?.first?.rule == "self.clusterDefinitionRef == oldSelf.clusterDefinitionRef")
        #expect(spec.properties?["extra"]?.additionalProperties == .allows(true))
        #expect(spec.properties?["terminationPolicy"]?.default == "Delete")
        guard case .schema(let component)? = spec.properties?["componentSpecs"]?.items else {
            Issue.record("componentSpecs.items should be a single schema")
            return
        }
        guard case .schema(let service)? = component.properties?["services"]?.items else {
            Issue.record("services.items should be a single schema")
            return
        }
        #expect(service.properties?["serviceType"]?.not?.enum == ["ExternalName"])
        #expect(root.properties?["status"]?.xKubernetesPreserveUnknownFields == true)
    }

    /// Fields that few manifests use, deep in a PodSpec: they survive because every schema field is modelled, not
    /// because a catch-all keeps what the models do not know.
    @Test func rarelyUsedPodSpecFieldsSurvive() throws {
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "deep"],
            "spec": [
                "hostUsers": false,
                "os": ["name": "linux"],
                "schedulingGates": [["name": "vectorblocks.io/wait-for-volume"]],
                "resourceClaims": [["name": "gpu", "resourceClaimTemplateName": "gpu-template"]],
                "dnsConfig": ["options": [["name": "ndots", "value": "2"]], "nameservers": ["10.0.0.10"]],
                "readinessGates": [["conditionType": "vectorblocks.io/raft-joined"]],
                "containers": [
                    [
                        "name": "main",
                        "restartPolicy": "Always",
                        "resizePolicy": [["resourceName": "cpu", "restartPolicy": "NotRequired"]],
                        "stdin": true,
                        "volumeDevices": [["name": "raw", "devicePath": "/dev/xvda"]],
                    ]
                ],
            ],
        ]
        let encoded = try JSONValue(encoding: try pod.decode(as: CoreV1.Pod.self))
        for path in [
            ["spec", "hostUsers"], ["spec", "os", "name"], ["spec", "schedulingGates"], ["spec", "resourceClaims"],
            ["spec", "dnsConfig", "options"], ["spec", "readinessGates"],
        ] {
            #expect(encoded.value(at: path) == pod.value(at: path), "lost \(path.joined(separator: "."))")
        }
        expectEqualJSON(encoded, pod)
    }

    @Test func builtinResourcesDescribeTheirPaths() {
        #expect(
            AppsV1.StatefulSet.descriptor
                == ResourceDescriptor(
                    group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true))
        #expect(CoreV1.Namespace.descriptor.namespaced == false)
        #expect(RbacV1.ClusterRoleBinding.descriptor.plural == "clusterrolebindings")
        #expect(EventsV1.Event.descriptor.groupVersionPath == "/apis/events.k8s.io/v1")
        #expect(BuiltinResources.all.count == 21)
        #expect(Set(BuiltinResources.all).count == BuiltinResources.all.count)
    }

    @Test func rootKindsDefaultTheirTypeFields() throws {
        let statefulSet = AppsV1.StatefulSet(metadata: MetaV1.ObjectMeta(name: "db"))
        #expect(statefulSet.apiVersion == "apps/v1")
        #expect(statefulSet.kind == "StatefulSet")
        let json = try JSONValue(encoding: statefulSet)
        #expect(json == ["apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "db"]])
    }

    @Test func listsDecodeNullItemsAsEmpty() throws {
        let json: JSONValue = ["apiVersion": "apps/v1", "kind": "StatefulSetList", "metadata": [:], "items": nil]
        let list = try json.decode(as: ObjectList<AppsV1.StatefulSet>.self)
        #expect(list.items.isEmpty)
    }

    // MARK: Helpers

    private func roundTrip<Model: Codable>(_ type: Model.Type, fixture: String) throws -> (JSONValue, Model, JSONValue) {
        let url = try #require(
            Bundle.module.url(forResource: fixture, withExtension: "json", subdirectory: "Fixtures"))
        let data = try Data(contentsOf: url)
        let original = try JSONDecoder().decode(JSONValue.self, from: data)
        let model = try JSONDecoder().decode(Model.self, from: data)
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(model))
        return (original, model, encoded)
    }

    /// Compares two documents and names every path where they differ, so a failure says which field was lost.
    private func expectEqualJSON(
        _ actual: JSONValue, _ expected: JSONValue, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let differences = JSONDifference.paths(actual, expected)
        #expect(differences.isEmpty, "differs at \(differences.joined(separator: ", "))", sourceLocation: sourceLocation)
    }
}

enum JSONDifference {
    static func paths(_ actual: JSONValue, _ expected: JSONValue, at path: String = "$") -> [String] {
        switch (actual, expected) {
        case (.object(let lhs), .object(let rhs)):
            return Set(lhs.keys).union(rhs.keys).sorted().flatMap { key -> [String] in
                switch (lhs[key], rhs[key]) {
                case (let left?, let right?): return paths(left, right, at: "\(path).\(key)")
                case (nil, _): return ["\(path).\(key) (missing after round trip)"]
                case (_, nil): return ["\(path).\(key) (added by round trip)"]
                }
            }
        case (.array(let lhs), .array(let rhs)) where lhs.count == rhs.count:
            return zip(lhs, rhs).enumerated().flatMap { index, pair in paths(pair.0, pair.1, at: "\(path)[\(index)]") }
        default:
            return actual == expected ? [] : ["\(path) (\(actual) != \(expected))"]
        }
    }
}
