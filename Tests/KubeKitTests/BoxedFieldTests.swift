import Foundation
import KubeKit
import Testing

/// The generated models keep the optional structs of large structs in boxes behind the same properties.
@Suite("Boxed model fields")
struct BoxedFieldTests {
    @Test func anAbsentOptionalStructCostsAPointer() {
        // Before the boxes: 2,040, 1,416, 257 and 1,485 bytes.
        #expect(MemoryLayout<CoreV1.Volume>.size <= 300)
        #expect(MemoryLayout<CoreV1.Container>.size <= 600)
        #expect(MemoryLayout<CoreV1.EnvVar>.size <= 80)
        #expect(MemoryLayout<AppsV1.StatefulSet>.size <= 64)
    }

    @Test func boxedFieldsKeepValueSemanticsThroughNestedMutation() {
        var original = CoreV1.Pod(
            metadata: .init(labels: ["app": "db"], name: "db-0"),
            spec: .init(containers: [.init(name: "postgres")], volumes: [.init(name: "data")]))
        var copy = original
        copy.metadata?.labels?["role"] = "primary"
        copy.spec?.containers[0].livenessProbe = CoreV1.Probe(periodSeconds: 5)
        copy.spec?.containers.append(.init(name: "exporter"))
        copy.spec?.volumes?[0].emptyDir = CoreV1.EmptyDirVolumeSource(medium: "Memory")

        #expect(copy.metadata?.labels == ["app": "db", "role": "primary"])
        #expect(copy.spec?.containers.map(\.name) == ["postgres", "exporter"])
        #expect(copy.spec?.containers[0].livenessProbe?.periodSeconds == 5)
        #expect(copy.spec?.volumes?[0].emptyDir?.medium == "Memory")
        // The original is untouched, boxes and all.
        #expect(original.metadata?.labels == ["app": "db"])
        #expect(original.spec?.containers.map(\.name) == ["postgres"])
        #expect(original.spec?.containers[0].livenessProbe == nil && original.spec?.volumes?[0].emptyDir == nil)
        original.spec = nil
        #expect(original.spec == nil && copy.spec != nil)
    }

    @Test func boxedFieldsReadAndWriteTheSameJSON() throws {
        let json =
            #"{"metadata":{"name":"db-0"},"spec":{"containers":[{"name":"postgres","readinessProbe":{"tcpSocket":{"port":5432}}}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-db-0"}}]}}"#
        let pod = try JSONDecoder().decode(CoreV1.Pod.self, from: Data(json.utf8))
        #expect(pod.spec?.volumes?.first?.persistentVolumeClaim?.claimName == "data-db-0")
        #expect(pod.spec?.containers.first?.readinessProbe?.tcpSocket?.port == .int(5432))
        #expect(pod.spec?.volumes?.first?.emptyDir == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let again = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(pod))
        #expect(again == (try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))))
    }
}
