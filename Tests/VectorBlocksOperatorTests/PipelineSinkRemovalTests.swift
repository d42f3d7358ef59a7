import Foundation
import KubeKit
import Testing
import VectorBlocksAPI
import VectorSync

@testable import VectorBlocksOperator

/// Which removed sinks' data is dropped, which is kept and why, without a server.
@Suite("VectorPipeline sink removal")
struct PipelineSinkRemovalTests {
    let now = MetaV1.Time(Date(timeIntervalSince1970: 1_800_000_000))
    typealias Sink = VectorPipelineSpec.Sink

    static let dropped = Sink(
        name: "dropped", kind: .pgvector, clusterRef: .init(name: "embeddings"), collection: "vectors.dropped", deletionPolicy: .delete)
    static let kept = Sink(name: "kept", kind: .pgvector, clusterRef: .init(name: "embeddings"), collection: "vectors.kept", deletionPolicy: .retain)
    static let qdrant = Sink(
        name: "qdrant", kind: .qdrant, endpoint: .init(url: "http://qdrant:6333"), collection: "documents", deletionPolicy: .delete)

    /// The status a pipeline with these sinks had: each sink's policy and target recorded.
    func status(_ sinks: [Sink], removed: [RemovedSink]? = nil) -> VectorPipelineStatus {
        VectorPipelineStatus(
            sinks: sinks.map { .init(name: $0.name, deletionPolicy: $0.deletionPolicy, target: $0.target.resolved(in: "default")) },
            removedSinks: removed)
    }

    func removed(_ previous: VectorPipelineStatus, spec: [Sink]) -> [RemovedSink] {
        PipelineSinkRemoval.removedSinks(previous: previous, spec: spec, namespace: "default", now: now)
    }

    @Test func aSinkRemovedFromTheSpecIsListedWithItsPolicyAndOneStillThereOrRenamedIsNot() {
        let all = status([Self.dropped, Self.kept, Self.qdrant])
        #expect(removed(all, spec: [Self.dropped, Self.kept, Self.qdrant]).isEmpty)

        let list = removed(all, spec: [Self.qdrant])
        #expect(list.map(\.name) == ["dropped", "kept"])
        #expect(list.map(\.state) == [.pending, .retained])
        #expect(list[0].target == Sink.ClusterRef(name: "embeddings", namespace: "default").asTarget("vectors.dropped"))
        #expect(list[1].message?.contains("deletionPolicy is Retain") == true)

        // Known by where its data lives: a rename, or the namespace spelled out, is the same sink.
        var renamed = Self.dropped
        renamed.name = "renamed"
        renamed.clusterRef?.namespace = "default"
        #expect(removed(all, spec: [renamed, Self.kept, Self.qdrant]).isEmpty)
        // The same table in another Cluster is another sink: the old one is removed.
        var moved = Self.dropped
        moved.clusterRef = .init(name: "elsewhere")
        #expect(removed(all, spec: [moved, Self.kept, Self.qdrant]).map(\.name) == ["dropped"])
    }

    @Test func aListedRemovalIsNotRepeatedLeavesTheListWhenTheSinkIsBackAndEndsWhenItsPolicyBecomesRetain() {
        let first = removed(status([Self.dropped, Self.qdrant]), spec: [Self.qdrant])
        // The next look: the status no longer has the sink, the list does.
        let next = removed(status([Self.qdrant], removed: first), spec: [Self.qdrant])
        #expect(next == first)
        // Deleted, then the pipeline is deleted with the sink's target recorded again: not dropped twice.
        var deleted = first
        deleted[0].state = .deleted
        #expect(removed(status([Self.dropped, Self.qdrant], removed: deleted), spec: []).map(\.state) == [.deleted, .pending])
        // Back in the spec: off the list.
        #expect(removed(status([Self.qdrant], removed: first), spec: [Self.dropped, Self.qdrant]).isEmpty)
        // A drop that cannot succeed ends when the policy becomes Retain (the way out of a stuck deletion).
        var retained = Self.dropped
        retained.deletionPolicy = .retain
        #expect(removed(status([retained], removed: first), spec: []).map(\.state) == [.retained])
    }

    @Test func theListKeepsTheNewestSettledRemovalsAndEveryPendingOne() {
        let settled = (0..<RemovedSink.kept).map {
            RemovedSink(
                name: "old\($0)", target: .init(kind: .pgvector, collection: "vectors.old\($0)", endpoint: .init(url: "postgres://db/x")),
                deletionPolicy: .retain, state: .retained)
        }
        let list = removed(status([Self.dropped], removed: settled), spec: [])
        #expect(list.count == RemovedSink.kept)
        #expect(list.first?.name == "old1")
        #expect(list.last?.name == "dropped")
        #expect(list.last?.state == .pending)
    }

    static func emuPod(table: String?, credential: String = "embeddings-conn-credential", qdrantCollection: String? = nil) -> CoreV1.PodSpec {
        var env = [
            CoreV1.EnvVar(
                name: "VB_PGVECTOR_USER", valueFrom: .init(secretKeyRef: .init(key: "username", name: credential)))
        ]
        if let qdrantCollection {
            env += [
                CoreV1.EnvVar(name: "VECTORSYNC_QDRANT_URL", value: "http://qdrant:6333"),
                CoreV1.EnvVar(name: "VECTORSYNC_QDRANT_COLLECTION", value: qdrantCollection),
            ]
        }
        return CoreV1.PodSpec(
            containers: [CoreV1.Container(args: ["run"] + (table.map { ["--pgvector-table", $0] } ?? []), env: env, name: "emu")])
    }

    @Test func anEmuPodWritesASinkWhenItNamesItsTableAndItsDatabase() {
        let target = Self.dropped.target
        #expect(PipelineSinkRemoval.writes(Self.emuPod(table: "vectors.dropped"), target: target, namespace: "default"))
        #expect(!PipelineSinkRemoval.writes(Self.emuPod(table: "vectors.kept"), target: target, namespace: "default"))
        // The same table name in another Cluster's database is not this sink.
        #expect(!PipelineSinkRemoval.writes(Self.emuPod(table: "vectors.dropped", credential: "other-conn-credential"), target: target, namespace: "default"))
        #expect(PipelineSinkRemoval.writes(Self.emuPod(table: nil, qdrantCollection: "documents"), target: Self.qdrant.target, namespace: "default"))
        #expect(!PipelineSinkRemoval.writes(Self.emuPod(table: nil, qdrantCollection: "other"), target: Self.qdrant.target, namespace: "default"))
        #expect(!PipelineSinkRemoval.writes(nil, target: target, namespace: "default"))
    }

    @Test func theDropWaitsForEveryEmuPodThatWritesTheSinkForTheRolloutAndForOtherPipelines() throws {
        let entry = try #require(removed(status([Self.dropped]), spec: []).first)
        let old = (name: "documents-emu-old", spec: Optional(Self.emuPod(table: "vectors.dropped")))
        let new = (name: "documents-emu-new", spec: Optional(Self.emuPod(table: "vectors.kept")))
        func wait(_ pods: [(name: String, spec: CoreV1.PodSpec?)], rolledOut: Bool = true, others: [String] = []) -> String? {
            PipelineSinkRemoval.wait(for: entry, emuPods: pods, emuRolledOut: rolledOut, otherWriters: others, namespace: "default")
        }
        #expect(wait([old, new])?.contains("the pods documents-emu-old still write the pgvector table vectors.dropped in Cluster embeddings") == true)
        #expect(wait([new], rolledOut: false)?.contains("has not observed its new template") == true)
        #expect(wait([new], others: ["other"])?.contains("the pipelines other write") == true)
        #expect(wait([new]) == nil)
        #expect(wait([]) == nil)
    }

    @Test func theDropsOutcomeSettlesTheSinkAndAnotherMakerKeepsIt() throws {
        let entry = try #require(removed(status([Self.dropped]), spec: []).first)
        let dropped = PipelineSinkRemoval.settle(entry, outcome: .dropped, maker: "default/documents", now: now)
        #expect(dropped.state == .deleted)
        #expect(dropped.message == "dropped the pgvector table vectors.dropped in Cluster embeddings")
        #expect(PipelineSinkRemoval.settle(entry, outcome: .absent, maker: "default/documents", now: now).state == .gone)
        let foreign = PipelineSinkRemoval.settle(entry, outcome: .madeByOther("default/other"), maker: "default/documents", now: now)
        #expect(foreign.state == .kept)
        #expect(foreign.message?.contains("its record names \"default/other\", not \"default/documents\"") == true)
        let unrecorded = PipelineSinkRemoval.settle(entry, outcome: .madeByOther(nil), maker: "default/documents", now: now)
        #expect(unrecorded.message?.contains("names no pipeline") == true)
        let waiting = PipelineSinkRemoval.waiting(entry, because: "cannot drop: connection refused", now: now)
        #expect(waiting.state == .pending)
        #expect(waiting.message == "cannot drop: connection refused")
    }

    @Test func theConditionsSayWhatWaitsWhatWasDroppedAndWhatWasKept() throws {
        let pending = try #require(removed(status([Self.dropped]), spec: []).first)
        let retained = try #require(removed(status([Self.kept]), spec: []).first)
        #expect(PipelineSinkRemoval.conditions([retained]).isEmpty)

        let waiting = PipelineSinkRemoval.conditions([pending, retained])
        #expect(waiting.map(\.type) == [.removedSinksDeleted, .sinkDataNotDeleted])
        #expect(waiting[0].isTrue == false && waiting[0].reason == "SinkDataDropWaiting")
        #expect(waiting[0].message.hasPrefix("sink dropped: waiting for Emu's rollout"))
        #expect(waiting[1].isTrue == false)

        let deleted = PipelineSinkRemoval.settle(pending, outcome: .dropped, maker: "default/documents", now: now)
        let done = PipelineSinkRemoval.conditions([deleted, retained])
        #expect(done[0].isTrue && done[0].reason == "SinkDataDropped")

        var foreignEntry = pending
        foreignEntry.name = "foreign"
        let foreign = PipelineSinkRemoval.settle(foreignEntry, outcome: .madeByOther(nil), maker: "default/documents", now: now)
        let kept = PipelineSinkRemoval.conditions([deleted, foreign])
        #expect(kept[0].isTrue == false && kept[0].reason == "SinkDataKept")
        #expect(kept[1].isTrue && kept[1].reason == "NotMadeByThisPipeline" && kept[1].message.hasPrefix("sink foreign: "))
    }

    @Test func eventsSayWhenASinksDataIsDroppedOrKept() throws {
        let pending = try #require(removed(status([Self.dropped]), spec: []).first)
        let deleted = PipelineSinkRemoval.settle(pending, outcome: .dropped, maker: "default/documents", now: now)
        let kept = PipelineSinkRemoval.settle(pending, outcome: .madeByOther(nil), maker: "default/documents", now: now)
        #expect(PipelineSinkEvents.removals([pending], [pending]).isEmpty)
        #expect(PipelineSinkEvents.removals([pending], [deleted]).map(\.reason) == ["SinkDataDeleted"])
        #expect(PipelineSinkEvents.removals([pending], [kept]).map { "\($0.reason) \($0.warning)" } == ["SinkDataKept true"])
        #expect(PipelineSinkEvents.removals([deleted], [deleted]).isEmpty)

        // The sink's removal itself says what its policy does.
        let before = status([Self.dropped, Self.kept])
        let after = VectorPipelineStatus(sinks: [])
        let messages = PipelineSinkEvents.between(before, after).filter { $0.reason == "SinkRemoved" }.map(\.message)
        #expect(messages.count == 2)
        #expect(messages[0].contains("sink dropped") && messages[0].contains("deletionPolicy Delete"))
        #expect(messages[1].contains("sink kept") && messages[1].contains("kept where they are"))
    }
}

extension VectorPipelineSpec.Sink.ClusterRef {
    func asTarget(_ table: String) -> SinkTarget {
        SinkTarget(kind: .pgvector, collection: table, clusterRef: self)
    }
}
