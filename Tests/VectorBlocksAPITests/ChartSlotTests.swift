import KubeKit
import Testing

@testable import VectorBlocksAPI
@testable import VectorBlocksPackaging

@Suite("Chart slots: template text where a typed field cannot hold it")
struct ChartSlotTests {
    let replicas = ChartSlot("replicas", .scalar(".Values.replicas"))
    let resources = ChartSlot("resources", .block(".Values.resources"))
    let spread = ChartSlot("spread", .optionalBlock(".Values.spread"))

    @Test("each kind of slot becomes its template line, indented where the field was")
    func fill() throws {
        var document: JSONValue = ["spec": ["replicas": 2, "pod": ["containers": [["name": "a", "resources": [:]]]]]]
        document = try replicas.place(in: document, at: ["spec", "replicas"])
        document = try resources.place(in: document, at: ["spec", "pod", "containers", 0, "resources"])
        document = try spread.place(in: document, at: ["spec", "pod", "spread"])
        let yaml = try ChartSlot.fill(try ManifestYAML.render([document]), slots: [replicas, resources, spread])
        #expect(
            yaml == """
                ---
                spec:
                  pod:
                    containers:
                    - name: a
                      resources: {{- toYaml .Values.resources | nindent 8 }}
                    {{- with .Values.spread }}
                    spread: {{- toYaml . | nindent 6 }}
                    {{- end }}
                  replicas: {{ .Values.replicas }}

                """)
    }

    @Test("a path through a field the object lacks is refused")
    func missingField() throws {
        let document: JSONValue = ["spec": ["containers": []]]
        #expect(throws: ChartSlot.FillError.self) { try replicas.place(in: document, at: ["status", "replicas"]) }
        #expect(throws: ChartSlot.FillError.self) { try replicas.place(in: document, at: ["spec", "containers", 0, "resources"]) }
    }

    @Test("a placeholder missing, repeated, or first in a list item is refused")
    func misplaced() throws {
        #expect(throws: ChartSlot.FillError.self) { try ChartSlot.fill("spec:\n  replicas: 2\n", slots: [replicas]) }
        let twice = "a: \(replicas.placeholder)\nb: \(replicas.placeholder)\n"
        #expect(throws: ChartSlot.FillError.self) { try ChartSlot.fill(twice, slots: [replicas]) }
        #expect(throws: ChartSlot.FillError.self) { try ChartSlot.fill("items:\n- replicas: \(replicas.placeholder)\n", slots: [replicas]) }
    }
}
