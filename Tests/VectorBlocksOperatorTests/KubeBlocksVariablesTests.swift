import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI

@testable import VectorBlocksOperator

/// A KubeBlocks definition converted by its apiVersion runs its own scripts: the pods carry the `KB_*` variables
/// KubeBlocks 0.7 injects. Pure: the objects are built without a server.
@Suite("KubeBlocks' variables in the pods (pure)")
struct KubeBlocksVariablesTests {
    static let fixture = "Tests/VectorBlocksOperatorTests/Fixtures/kubeblocks-0.7-qdrant.yaml"
    static let uid = "6f1c2a9e-3b4d-4e5f-8a7b-91c0d2e3f4a5"

    struct Built {
        var objects: [DesiredObject]
        var scripts: CoreV1.ConfigMap
        var cluster: Cluster
    }

    /// The fixture's Cluster built as the reconciler would, with `edit` applied to its definition first.
    static func build(edit: (inout ClusterDefinition) -> Void = { _ in }) throws -> Built {
        let documents = try yamlDocuments(fixture)
        func document(_ kind: String, _ name: String) throws -> JSONValue {
            try #require(documents.first { $0["kind"]?.stringValue == kind && $0["metadata"]?["name"]?.stringValue == name })
        }
        var definition = try document("ClusterDefinition", "qdrant").decode(as: ClusterDefinition.self)
        edit(&definition)
        let version = try document("ClusterVersion", "qdrant-1.5.0").decode(as: ClusterVersion.self)
        var cluster = try document("Cluster", "qdrant").decode(as: Cluster.self)
        cluster.metadata?.uid = uid
        cluster = cluster.withDefaults()
        var templates: [String: CoreV1.ConfigMap] = [:]
        for name in ["qdrant-scripts", "qdrant-config-template"] {
            templates["kb-system/\(name)"] = try document("ConfigMap", name).decode(as: CoreV1.ConfigMap.self)
        }
        let names = ClusterNames(cluster: "qdrant", namespace: "default")
        let credential = ConnectionCredential.values(
            cluster: cluster, definition: definition, names: names, existing: [:], generator: FixedSecretGenerator())
        let input = ClusterBuildInput(
            cluster: cluster, definition: definition.withDefaults(), version: version, credential: credential,
            templates: templates)
        return Built(
            objects: try ClusterObjectsBuilder.objects(input), scripts: try #require(templates["kb-system/qdrant-scripts"]),
            cluster: cluster)
    }

    /// The `KB_*` variables a shell script reads. `\$KB_QDRANT_"${IDX}"_HOSTNAME` names a variable at run time: it
    /// reads the one of every ordinal.
    static func variables(readBy script: String, replicas: Int) -> Set<String> {
        var names: Set<String> = []
        for match in script.matches(of: #/\$(KB_[A-Z0-9_]*_)"\$\{[A-Za-z_]+\}"([A-Z0-9_]*)/#) {
            for ordinal in 0..<replicas { names.insert("\(match.1)\(ordinal)\(match.2)") }
        }
        for match in script.matches(of: #/\$\{?(KB_[A-Z0-9_]+)/#) where !match.1.hasSuffix("_") {
            names.insert(String(match.1))
        }
        return names
    }

    /// What a container of the pod template can read: its env, and the ConfigMaps it loads whole.
    static func defined(in container: CoreV1.Container, configMaps: [String: CoreV1.ConfigMap]) -> Set<String> {
        var names = Set((container.env ?? []).map(\.name))
        for source in container.envFrom ?? [] {
            if let name = source.configMapRef?.name { names.formUnion(configMaps[name]?.data.map { Array($0.keys) } ?? []) }
        }
        return names
    }

    static func statefulSet(_ built: Built) throws -> AppsV1.StatefulSet {
        try object(built.objects, "StatefulSet/qdrant-qdrant").decode(as: AppsV1.StatefulSet.self)
    }

    @Test("every KB_ variable the scripts of KubeBlocks 0.7's Qdrant read is defined in every container")
    func everyVariableTheScriptsReadIsDefined() throws {
        let built = try Self.build()
        var configMaps: [String: CoreV1.ConfigMap] = [:]
        for configMap in try built.objects.filter({ $0.resource.kind == "ConfigMap" }).map({ try $0.body.decode(as: CoreV1.ConfigMap.self) }) {
            configMaps[configMap.metadata?.name ?? ""] = configMap
        }
        let replicas = Int(built.cluster.spec.componentSpecs[0].replicas ?? 1)
        var read: Set<String> = []
        for script in (built.scripts.data ?? [:]).values { read.formUnion(Self.variables(readBy: script, replicas: replicas)) }
        #expect(read == ["KB_POD_NAME", "KB_QDRANT_0_HOSTNAME", "KB_QDRANT_1_HOSTNAME", "KB_QDRANT_2_HOSTNAME"])

        let pod = try #require(try Self.statefulSet(built).spec?.template.spec)
        let containers = pod.containers + (pod.initContainers ?? [])
        #expect(containers.map(\.name) == ["web-ui", "qdrant", "qdrant-tools"])
        for container in containers {
            let missing = read.subtracting(Self.defined(in: container, configMaps: configMaps))
            #expect(missing.isEmpty, "\(container.name) lacks \(missing.sorted())")
        }
    }

    @Test func podVariablesComeFromTheDownwardAPIAndTheCluster() throws {
        let pod = try #require(try Self.statefulSet(try Self.build()).spec?.template.spec)
        let env = try #require(pod.containers.first { $0.name == "qdrant" }?.env)
        let fields = Dictionary(
            uniqueKeysWithValues: env.compactMap { variable in
                variable.valueFrom?.fieldRef.map { (variable.name, $0.fieldPath) }
            })
        #expect(
            fields == [
                "KB_POD_NAME": "metadata.name", "KB_POD_UID": "metadata.uid", "KB_NAMESPACE": "metadata.namespace",
                "KB_SA_NAME": "spec.serviceAccountName", "KB_NODENAME": "spec.nodeName",
                "KB_HOST_IP": "status.hostIP", "KB_POD_IP": "status.podIP", "KB_POD_IPS": "status.podIPs",
                "KB_HOSTIP": "status.hostIP", "KB_PODIP": "status.podIP", "KB_PODIPS": "status.podIPs",
            ])
        let values = Dictionary(uniqueKeysWithValues: env.compactMap { variable in variable.value.map { (variable.name, $0) } })
        #expect(values["KB_CLUSTER_NAME"] == "qdrant")
        #expect(values["KB_COMP_NAME"] == "qdrant")
        #expect(values["KB_CLUSTER_COMP_NAME"] == "qdrant-qdrant")
        #expect(values["KB_CLUSTER_UID_POSTFIX_8"] == "d2e3f4a5")
        #expect(values["KB_POD_FQDN"] == "$(KB_POD_NAME).qdrant-qdrant-headless.$(KB_NAMESPACE).svc")
        #expect(values["QDRANT__TELEMETRY_DISABLED"] == "true", "the definition's own variables stay")
        // A reference resolves only to a variable defined earlier in the list.
        let position = { (name: String) in env.firstIndex { $0.name == name } ?? Int.max }
        #expect(position("KB_POD_NAME") < position("KB_POD_FQDN") && position("KB_NAMESPACE") < position("KB_POD_FQDN"))
    }

    @Test func theEnvConfigMapNamesEveryPeerUnderBothSpellings() throws {
        let built = try Self.build()
        let data = try #require(try object(built.objects, "ConfigMap/qdrant-qdrant-env").decode(as: CoreV1.ConfigMap.self).data)
        #expect(data["KB_REPLICA_COUNT"] == "3")
        #expect(data["KB_QDRANT_N"] == "3")
        #expect(data["KB_CLUSTER_UID"] == Self.uid)
        #expect(data["KB_QDRANT_CLUSTER_UID"] == Self.uid)
        for ordinal in 0..<3 {
            let hostname = "qdrant-qdrant-\(ordinal).qdrant-qdrant-headless"
            #expect(data["KB_\(ordinal)_HOSTNAME"] == hostname)
            #expect(data["KB_QDRANT_\(ordinal)_HOSTNAME"] == hostname)
        }
        #expect(data["KB_QDRANT_3_HOSTNAME"] == nil)
        #expect(data["VB_REPLICA_COUNT"] == "3", "ours stay beside KubeBlocks'")
    }

    @Test func aComponentDefinitionNameBecomesAVariableNameOfLettersDigitsAndUnderscores() {
        let names = ClusterNames(cluster: "c", namespace: "n")
        let entries = KubeBlocksVariables.componentEntries(
            names: names, component: "db", componentDef: "pg-vector.v2", replicas: 1, clusterUID: "u")
        #expect(entries["KB_PG_VECTOR_V2_0_HOSTNAME"] == "c-db-0.c-db-headless")
        #expect(entries["KB_PG_VECTOR_V2_N"] == "1")
    }

    @Test func aVariableTheDefinitionSetsItselfIsNotRepeatedAndKeepsItsValue() throws {
        let built = try Self.build { definition in
            let qdrant = definition.spec.componentDefs[0].podSpec?.containers.firstIndex { $0.name == "qdrant" } ?? 0
            definition.spec.componentDefs[0].podSpec?.containers[qdrant].env?.append(CoreV1.EnvVar(name: "KB_CLUSTER_NAME", value: "mine"))
        }
        let env = try #require(try Self.statefulSet(built).spec?.template.spec?.containers.first { $0.name == "qdrant" }?.env)
        #expect(env.filter { $0.name == "KB_CLUSTER_NAME" }.map(\.value) == ["mine"])
    }
}
