import KubeKit
import KubeSim
import TestSupport
import Testing

@testable import OperatorKit

@Suite("Conditions")
struct ConditionsTests {
    let earlier = MetaV1.Time(rfc3339: "2026-01-01T00:00:00Z")!
    let later = MetaV1.Time(rfc3339: "2026-01-01T00:05:00Z")!

    @Test func transitionTimeMovesOnlyWhenStatusChanges() {
        var conditions: [MetaV1.Condition] = []
        #expect(Conditions.set(&conditions, type: "Ready", status: .false, reason: "Creating", message: "0/3 ready", observedGeneration: 1, now: earlier))
        // Same status, new message: changed, but the transition time stays.
        #expect(Conditions.set(&conditions, type: "Ready", status: .false, reason: "Creating", message: "1/3 ready", observedGeneration: 1, now: later))
        #expect(conditions[0].lastTransitionTime == earlier)
        #expect(conditions[0].message == "1/3 ready")
        // Nothing new: nothing changed, so no status write is needed.
        #expect(!Conditions.set(&conditions, type: "Ready", status: .false, reason: "Creating", message: "1/3 ready", observedGeneration: 1, now: later))
        #expect(Conditions.set(&conditions, type: "Ready", status: .true, reason: "Available", message: "3/3 ready", observedGeneration: 2, now: later))
        #expect(conditions[0].lastTransitionTime == later)
        #expect(conditions[0].observedGeneration == 2)
        #expect(Conditions.isTrue(conditions, type: "Ready"))
        #expect(conditions.count == 1)
        #expect(Conditions.remove(&conditions, type: "Ready"))
        #expect(conditions.isEmpty)
    }
}

@Suite("Events")
struct EventRecorderTests {
    @Test func repeatedEventsAggregateAndTheSpamFilterCapsAnObject() async throws {
        try await withKubeSim { _, client in
            let subject = try await client.create(CoreV1.ConfigMap(metadata: .init(name: "subject", namespace: "default")))
            let recorder = EventRecorder(client: client, component: "vectorblocks-operator", burst: 4)
            await recorder.record(subject, type: .warning, reason: "UnknownDefinition", message: "clusterdefinition \"x\" not found")
            await recorder.record(subject, type: .warning, reason: "UnknownDefinition", message: "clusterdefinition \"x\" not found")
            await recorder.record(subject, type: .normal, reason: "Created", message: "StatefulSet subject-qdrant created")

            var events = try await client.list(CoreV1.Event.self, namespace: "default").items
            #expect(events.count == 2)
            let warning = try #require(events.first { $0.reason == "UnknownDefinition" })
            #expect(warning.count == 2)
            #expect(warning.type == "Warning")
            #expect(warning.involvedObject.uid == subject.metadata?.uid)
            #expect(warning.involvedObject.kind == "ConfigMap")
            #expect(warning.source?.component == "vectorblocks-operator")

            // Four tokens: the fourth call is allowed, the fifth is dropped.
            await recorder.record(subject, type: .normal, reason: "Scaled", message: "replicas 3")
            await recorder.record(subject, type: .normal, reason: "Dropped", message: "over the limit")
            events = try await client.list(CoreV1.Event.self, namespace: "default").items
            #expect(events.contains { $0.reason == "Scaled" })
            #expect(!events.contains { $0.reason == "Dropped" })
        }
    }
}
