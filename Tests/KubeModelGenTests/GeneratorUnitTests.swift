import Foundation
import JSONValues
import KubeModelGen
import Testing

@Suite struct NamingTests {
    @Test(arguments: [
        ("io.k8s.api.core.v1.Pod", "CoreV1.Pod"),
        ("io.k8s.api.apps.v1.StatefulSet", "AppsV1.StatefulSet"),
        ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", "AutoscalingV2.HorizontalPodAutoscaler"),
        ("io.k8s.api.events.v1.Event", "EventsV1.Event"),
        ("io.k8s.api.rbac.v1.Role", "RbacV1.Role"),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "MetaV1.ObjectMeta"),
        ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "ApiextensionsV1.JSONSchemaProps"),
        ("io.k8s.api.flowcontrol.v1beta3.FlowSchema", "FlowcontrolV1beta3.FlowSchema"),
        ("io.k8s.apimachinery.pkg.version.Info", "VersionInfo"),
    ])
    func definitionNames(definition: String, swiftName: String) throws {
        #expect(try SwiftNaming.typeName(forDefinition: definition).qualified == swiftName)
    }

    @Test func definitionWithoutVersionIsAnError() {
        #expect(throws: ModelGenerationError.unnamedDefinition("io.k8s.apimachinery.pkg.runtime.Unknown")) {
            try SwiftNaming.typeName(forDefinition: "io.k8s.apimachinery.pkg.runtime.Unknown")
        }
    }

    @Test func propertyNames() throws {
        #expect(try SwiftNaming.propertyName(forJSONKey: "containerPort") == "containerPort")
        #expect(try SwiftNaming.propertyName(forJSONKey: "$ref") == "ref")
        #expect(try SwiftNaming.propertyName(forJSONKey: "$schema") == "schema")
        #expect(
            try SwiftNaming.propertyName(forJSONKey: "x-kubernetes-preserve-unknown-fields")
                == "xKubernetesPreserveUnknownFields")
        #expect(SwiftNaming.declaredName("default") == "`default`")
        #expect(SwiftNaming.declaredName("enum") == "`enum`")
        #expect(SwiftNaming.declaredName("not") == "not")
    }
}

/// Generation from small hand-written documents, to pin down one rule at a time.
@Suite struct GenerationRuleTests {
    private func generate(_ definitions: String, paths: String = "{}", roots: [String]) throws -> [String: String] {
        let document = #"{"definitions": \#(definitions), "paths": \#(paths)}"#
        let files = try ModelGenerator.generate(swagger: Data(document.utf8), roots: roots)
        return Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0.contents) })
    }

    @Test func requiredPropertiesAreNotOptional() throws {
        let files = try generate(
            #"""
            {"io.k8s.api.demo.v1.Port": {"type": "object", "required": ["port"], "properties": {
                "port": {"type": "integer", "format": "int32"},
                "name": {"type": "string"},
                "size": {"type": "integer", "format": "int64"},
                "ratio": {"type": "number", "format": "double"},
                "data": {"type": "string", "format": "byte"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "hosts": {"type": "array", "items": {"type": "string"}},
                "raw": {"type": "object"},
                "target": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
                "default": {"type": "boolean"},
                "x-kubernetes-flag": {"type": "boolean"}
            }}}
            """#, roots: ["io.k8s.api.demo.v1.Port"])
        let source = try #require(files["DemoV1.swift"])
        #expect(source.contains("public enum DemoV1 {}"))
        #expect(source.contains("public var port: Int32\n"))
        #expect(source.contains("public var name: String?\n"))
        #expect(source.contains("public var size: Int64?\n"))
        #expect(source.contains("public var ratio: Double?\n"))
        #expect(source.contains("public var data: String?\n"))
        #expect(source.contains("public var labels: [String: String]?\n"))
        #expect(source.contains("public var hosts: [String]?\n"))
        #expect(source.contains("public var raw: JSONValue?\n"))
        #expect(source.contains("public var target: IntOrString?\n"))
        #expect(source.contains("public var `default`: Bool?\n"))
        #expect(source.contains("public var xKubernetesFlag: Bool?\n"))
        #expect(source.contains("case xKubernetesFlag = \"x-kubernetes-flag\""))
        #expect(source.contains("        port: Int32,\n"))
        #expect(source.contains("        name: String? = nil,\n"))
    }

    @Test func recursionWithoutCollectionIsBoxed() throws {
        let files = try generate(
            #"""
            {
              "io.k8s.api.demo.v1.Node": {"type": "object", "properties": {
                "next": {"$ref": "#/definitions/io.k8s.api.demo.v1.Node"},
                "children": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.demo.v1.Node"}},
                "byName": {"type": "object", "additionalProperties": {"$ref": "#/definitions/io.k8s.api.demo.v1.Node"}},
                "pair": {"$ref": "#/definitions/io.k8s.api.demo.v1.Pair"},
                "leaf": {"$ref": "#/definitions/io.k8s.api.demo.v1.Leaf"}
              }},
              "io.k8s.api.demo.v1.Pair": {"type": "object", "required": ["back"], "properties": {
                "back": {"$ref": "#/definitions/io.k8s.api.demo.v1.Node"}
              }},
              "io.k8s.api.demo.v1.Leaf": {"type": "object", "properties": {"name": {"type": "string"}}}
            }
            """#, roots: ["io.k8s.api.demo.v1.Node"])
        let source = try #require(files["DemoV1.swift"])
        // Node → Node and the cycle Node → Pair → Node are boxed, on both edges of the cycle.
        #expect(source.contains("private var _next: Indirect<DemoV1.Node>?"))
        #expect(source.contains("private var _pair: Indirect<DemoV1.Pair>?"))
        #expect(source.contains("private var _back: Indirect<DemoV1.Node>\n"))
        #expect(source.contains("case _next = \"next\""))
        #expect(source.contains("self._back = Indirect(back)"))
        // Arrays, dictionaries and structs off the cycle stay as they are.
        #expect(source.contains("public var children: [DemoV1.Node]?\n"))
        #expect(source.contains("public var byName: [String: DemoV1.Node]?\n"))
        #expect(source.contains("public var leaf: DemoV1.Leaf?\n"))
    }

    @Test func resourceKindsTakePluralAndScopeFromPaths() throws {
        let files = try generate(
            #"""
            {
              "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {"name": {"type": "string"}}},
              "io.k8s.api.demo.v1.Widget": {"type": "object", "required": ["metadata"], "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
              }, "x-kubernetes-group-version-kind": [{"group": "demo.example.com", "version": "v1", "kind": "Widget"}]}
            }
            """#,
            paths: #"""
                {
                  "/apis/demo.example.com/v1/namespaces/{namespace}/widgets": {"post": {"x-kubernetes-action": "post",
                    "x-kubernetes-group-version-kind": {"group": "demo.example.com", "version": "v1", "kind": "Widget"}}},
                  "/apis/demo.example.com/v1/namespaces/{namespace}/widgets/{name}/eviction": {"post": {"x-kubernetes-action": "post",
                    "x-kubernetes-group-version-kind": {"group": "demo.example.com", "version": "v1", "kind": "Widget"}}}
                }
                """#,
            roots: ["io.k8s.api.demo.v1.Widget"])
        let demo = try #require(files["DemoV1.swift"])
        #expect(demo.contains("apiVersion: String? = \"demo.example.com/v1\","))
        #expect(demo.contains("kind: String? = \"Widget\","))
        // Required by the schema, optional in the model so that every resource kind fits KubernetesObject.
        #expect(demo.contains("public var metadata: MetaV1.ObjectMeta?\n"))
        let resources = try #require(files["Resources.swift"])
        #expect(resources.contains("extension DemoV1.Widget: KubernetesObject {"))
        #expect(resources.contains("plural: \"widgets\", namespaced: true)"))
        #expect(resources.contains("        DemoV1.Widget.descriptor,\n"))
    }

    @Test func missingReferenceNamesItsOrigin() {
        #expect(
            throws: ModelGenerationError.missingDefinition(
                "io.k8s.api.demo.v1.Gone", referencedFrom: "io.k8s.api.demo.v1.Holder.gone")
        ) {
            try generate(
                ##"{"io.k8s.api.demo.v1.Holder": {"type": "object", "properties": {"gone": {"$ref": "#/definitions/io.k8s.api.demo.v1.Gone"}}}}"##,
                roots: ["io.k8s.api.demo.v1.Holder"])
        }
    }

    @Test func realSchemaBoxesItsOneRecursionAndTheOptionalStructsOfLargeStructs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let swagger = try Data(contentsOf: root.appendingPathComponent("Sources/KubeSim/Resources/swagger.json"))
        let files = Dictionary(uniqueKeysWithValues: try ModelGenerator.generate(swagger: swagger).map { ($0.name, $0.contents) })
        let recursive = files.values.flatMap { contents in
            let lines = contents.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            return zip(lines, lines.dropFirst()).filter { $0.0.hasPrefix("// Boxed: a struct cannot contain itself") }.map(\.1)
        }
        #expect(recursive == ["private var _not: Indirect<ApiextensionsV1.JSONSchemaProps>?"])
        let core = try #require(files["CoreV1.swift"])
        // A Volume has some thirty optional sources and one of them set.
        #expect(core.contains("private var _persistentVolumeClaim: Indirect<CoreV1.PersistentVolumeClaimVolumeSource>?\n"))
        #expect(core.contains("private var _livenessProbe: Indirect<CoreV1.Probe>?\n"))
        // Small structs keep their optional structs inline; required structs stay inline.
        #expect(core.contains("public var nodeAffinity: CoreV1.NodeAffinity?\n"))
        #expect(try #require(files["AppsV1.swift"]).contains("public var template: CoreV1.PodTemplateSpec\n"))
    }

    @Test func aLargeStructBoxesItsOptionalStructsAndASmallOneDoesNot() throws {
        let sources = (1...8).map { ##""source\##($0)": {"$ref": "#/definitions/io.k8s.api.demo.v1.Source"}"## }
        let files = try generate(
            #"""
            {
              "io.k8s.api.demo.v1.Volume": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, \#(sources.joined(separator: ", "))
              }},
              "io.k8s.api.demo.v1.Source": {"type": "object", "properties": {"path": {"type": "string"}, "server": {"type": "string"}}},
              "io.k8s.api.demo.v1.Mount": {"type": "object", "properties": {"source": {"$ref": "#/definitions/io.k8s.api.demo.v1.Source"}}}
            }
            """#, roots: ["io.k8s.api.demo.v1.Volume", "io.k8s.api.demo.v1.Mount"])
        let source = try #require(files["DemoV1.swift"])
        #expect(source.contains("private var _source1: Indirect<DemoV1.Source>?\n"))
        #expect(source.contains("self._source8 = source8.map { Indirect($0) }"))
        #expect(source.contains("case _source1 = \"source1\""))
        #expect(source.contains("public var name: String\n"))
        #expect(source.contains("public var source: DemoV1.Source?\n"))
    }
}

@Suite struct DescriptionStripperTests {
    @Test func removesProseButKeepsPropertiesNamedDescription() throws {
        let input = #"""
            {"definitions": {"Props": {"description": "prose", "properties": {
              "description": {"type": "string", "description": "more prose"},
              "count": {"type": "integer", "format": "int64", "minimum": 1}
            }}}, "info": {"title": "Kubernetes", "version": "v1.36.0"}}
            """#
        let stripped = try DescriptionStripper.strip(Data(input.utf8))
        let tree = try JSONDecoder().decode(JSONValue.self, from: stripped)
        #expect(
            tree
                == .object([
                    "definitions": .object([
                        "Props": .object([
                            "properties": .object([
                                "description": .object(["type": .string("string")]),
                                "count": .object([
                                    "type": .string("integer"), "format": .string("int64"), "minimum": .int(1),
                                ]),
                            ])
                        ])
                    ]),
                    "info": .object(["title": .string("Kubernetes"), "version": .string("v1.36.0")]),
                ]))
        // Sorted keys: the output does not depend on the input's order.
        let reordered =
            #"{"info": {"version": "v1.36.0", "title": "Kubernetes"}, "definitions": {"Props": {"properties": {"count": {"minimum": 1, "format": "int64", "type": "integer"}, "description": {"type": "string"}}}}}"#
        #expect(try DescriptionStripper.strip(Data(reordered.utf8)) == stripped)
    }

    @Test func writesOneSpaceIndentedSortedASCII() throws {
        let input = #"{"b": [1, 2.5, true, null, [], {}], "a": {"text": "tab\tquote\" caf\u00e9 \ud83d\ude00"}}"#
        let expected = """
            {
             "a": {
              "text": "tab\\tquote\\" caf\\u00e9 \\ud83d\\ude00"
             },
             "b": [
              1,
              2.5,
              true,
              null,
              [],
              {}
             ]
            }
            """
        #expect(String(decoding: try DescriptionStripper.strip(Data(input.utf8)), as: UTF8.self) == expected)
    }
}
