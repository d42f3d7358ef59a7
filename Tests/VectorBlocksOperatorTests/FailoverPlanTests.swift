import Foundation
import KubeKit
import TestSupport
import Testing
import VectorBlocksAPI
import VectorBlocksPackaging

@testable import VectorBlocksOperator

/// The failover's pure decisions and the objects that carry the designated primary to the pods, without a server.
@Suite("pgvector failover decisions")
struct FailoverPlanTests {
    func pod(_ ordinal: Int, ready: Bool = true, deleting: Bool = false) -> CoreV1.Pod {
        CoreV1.Pod(
            metadata: .init(
                deletionTimestamp: deleting ? MetaV1.Time(rfc3339: "2026-12-03T00:00:00Z") : nil, name: "ha-postgresql-\(ordinal)",
                namespace: "default"),
            status: CoreV1.PodStatus(conditions: [.init(status: ready ? "True" : "False", type: "Ready")], phase: "Running"))
    }

    func standby(_ lsn: String?, upstream: String = "") -> ReplicaState {
        ReplicaState(inRecovery: true, receivedLSN: lsn.flatMap(WALPosition.init), upstream: upstream)
    }

    @Test func walPositionsParseAndOrderAsPostgreSQLPrintsThem() throws {
        let low = try #require(WALPosition("0/3000148"))
        let high = try #require(WALPosition("1/0"))
        #expect(low.value == 0x300_0148)
        #expect(high.value == 1 << 32)
        #expect(low < high)
        #expect(low.description == "0/3000148")
        #expect(WALPosition("16/B374D848")?.description == "16/B374D848")
        for invalid in ["", "0", "0/", "x/1", "1/2/3", "100000000/0"] {
            #expect(WALPosition(invalid) == nil, "\(invalid)")
        }
    }

    @Test func thePrimaryIsUnavailableWhenItsPodIsGoneGoingOrNotReady() {
        #expect(!FailoverPlan.primaryUnavailable("ha-postgresql-0", pods: [pod(0), pod(1)]))
        #expect(FailoverPlan.primaryUnavailable("ha-postgresql-0", pods: [pod(1)]))
        #expect(FailoverPlan.primaryUnavailable("ha-postgresql-0", pods: [pod(0, ready: false), pod(1)]))
        #expect(FailoverPlan.primaryUnavailable("ha-postgresql-0", pods: [pod(0, deleting: true), pod(1)]))
    }

    @Test func theStandbyThatReceivedTheMostWALIsPromoted() {
        let pods = [pod(0, ready: false), pod(1), pod(2), pod(3)]
        let states = [
            "ha-postgresql-1": standby("0/5000000"), "ha-postgresql-2": standby("0/5000100"), "ha-postgresql-3": standby("0/4FFFFFF"),
        ]
        #expect(FailoverPlan.candidate(states, pods: pods, excluding: "ha-postgresql-0") == .promote("ha-postgresql-2"))
        // Equals: the lowest ordinal, so every operator picks the same one.
        let tied = ["ha-postgresql-3": standby("0/5000000"), "ha-postgresql-1": standby("0/5000000"), "ha-postgresql-2": standby("0/4000000")]
        #expect(FailoverPlan.candidate(tied, pods: pods, excluding: "ha-postgresql-0") == .promote("ha-postgresql-1"))
    }

    @Test func aReadyStandbyThatDidNotAnswerIsWaitedForItMayHoldTheMostWAL() {
        let pods = [pod(0, ready: false), pod(1), pod(2), pod(3, ready: false)]
        // Pod 3 is not ready: it is not waited for.
        let states = ["ha-postgresql-1": standby("0/5000000")]
        #expect(FailoverPlan.candidate(states, pods: pods, excluding: "ha-postgresql-0") == .awaitPositions(["ha-postgresql-2"]))
        var answered = states
        answered["ha-postgresql-2"] = standby("0/6000000")
        #expect(FailoverPlan.candidate(answered, pods: pods, excluding: "ha-postgresql-0") == .promote("ha-postgresql-2"))
    }

    @Test func aStandbyStillStreamingIsWaitedForItsPositionIsNotFinal() {
        let pods = [pod(0, ready: false), pod(1), pod(2)]
        var states = ["ha-postgresql-1": standby("0/5000000"), "ha-postgresql-2": standby("0/4000000")]
        states["ha-postgresql-2"]?.streaming = true
        #expect(FailoverPlan.candidate(states, pods: pods, excluding: "ha-postgresql-0") == .awaitReceivers(["ha-postgresql-2"]))
        states["ha-postgresql-2"] = standby("0/6000000")
        #expect(FailoverPlan.candidate(states, pods: pods, excluding: "ha-postgresql-0") == .promote("ha-postgresql-2"))
    }

    @Test func noCandidateIsNotReadyWritableWithoutAPositionOrTheFailedPrimary() {
        let pods = [pod(0), pod(1, ready: false), pod(2), pod(3)]
        let states = [
            "ha-postgresql-0": standby("0/9000000"),  // the primary being replaced, even if it answers
            "ha-postgresql-1": standby("0/8000000"),  // not ready
            "ha-postgresql-2": ReplicaState(inRecovery: false, receivedLSN: nil, upstream: ""),  // writable already
            "ha-postgresql-3": standby(nil),  // no WAL position
        ]
        #expect(FailoverPlan.candidate(states, pods: pods, excluding: "ha-postgresql-0") == .noStandby)
    }

    @Test func theInitialPrimaryIsTheOneWritableServerElseAnUnavailableOrdinalZero() {
        let writable = ReplicaState(inRecovery: false, receivedLSN: nil, upstream: "")
        let zero = "ha-postgresql-0"
        let up = [pod(0), pod(1), pod(2)]
        #expect(FailoverPlan.initialPrimary(["ha-postgresql-1": writable, zero: standby("0/1")], ordinalZero: zero, pods: up) == "ha-postgresql-1")
        // Pod 0 may still come up read-write, as the pods' default designation makes it: wait for it.
        #expect(FailoverPlan.initialPrimary(["ha-postgresql-1": standby("0/1")], ordinalZero: zero, pods: up) == nil)
        // Pod 0 is down: record it, so that the failover replaces it.
        let zeroDown = [pod(0, ready: false), pod(1), pod(2)]
        #expect(FailoverPlan.initialPrimary(["ha-postgresql-1": standby("0/1")], ordinalZero: zero, pods: zeroDown) == zero)
        // ... but only with a standby that answered, which the failover can promote.
        #expect(FailoverPlan.initialPrimary([:], ordinalZero: zero, pods: zeroDown) == nil)
        // Two writable servers: the operator does not guess between them.
        #expect(FailoverPlan.initialPrimary(["ha-postgresql-1": writable, "ha-postgresql-2": writable], ordinalZero: zero, pods: up) == nil)
    }

    @Test func formerPrimariesAreFencedAndStrayStandbysRepointed() {
        let writable = ReplicaState(inRecovery: false, receivedLSN: nil, upstream: "")
        let states = [
            "ha-postgresql-0": writable, "ha-postgresql-1": writable,
            "ha-postgresql-2": standby("0/1", upstream: "host=10.0.0.5 port=5432 user=postgres"),
            "ha-postgresql-3": standby("0/1", upstream: "host=10.0.0.9 port=5432 user=postgres"),
        ]
        #expect(FailoverPlan.strayPrimaries(states, designated: "ha-postgresql-1") == ["ha-postgresql-0"])
        let repoint = FailoverPlan.standbysToRepoint(states, designated: "ha-postgresql-1") {
            FailoverPlan.connectionParameter("host", in: $0.upstream) == "10.0.0.9"
        }
        #expect(repoint == ["ha-postgresql-2"])
    }

    @Test func connectionStringsAreReadAndWrittenWithoutAPassword() {
        let reported = "user=postgres passfile='/var/lib/postgresql/.pgpass' host=10.0.0.9 port=5433 application_name=ha-postgresql-2"
        #expect(FailoverPlan.connectionParameter("host", in: reported) == "10.0.0.9")
        #expect(FailoverPlan.connectionParameter("port", in: reported) == "5433")
        #expect(FailoverPlan.connectionParameter("passfile", in: reported) == "/var/lib/postgresql/.pgpass")
        #expect(FailoverPlan.connectionParameter("dbname", in: reported) == nil)
        #expect(PgvectorAdapter.withoutPassword("host=a password=secret port=1") == "host=a port=1")
        #expect(
            FailoverPlan.upstream(host: "10.0.0.9", port: 5432, user: "postgres", applicationName: "ha-postgresql-2")
                == "host=10.0.0.9 port=5432 user=postgres application_name=ha-postgresql-2")
    }

    @Test func theEnvConfigMapNamesTheDesignatedPrimary() throws {
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "ha")
        cluster.metadata?.uid = "0b3c4d5e-0000-4000-8000-000000000001"
        #expect(try Self.environment(of: cluster)[PrimaryDesignation.environmentKey] == "ha-postgresql-0")
        cluster.status = ClusterStatus(components: ["postgresql": ClusterComponentStatus(primary: "ha-postgresql-1")])
        #expect(try Self.environment(of: cluster)[PrimaryDesignation.environmentKey] == "ha-postgresql-1")
        let switched = PrimaryDesignation.recording(["postgresql": "ha-postgresql-2"], in: cluster)
        #expect(PrimaryDesignation.recorded(switched, component: "postgresql") == "ha-postgresql-2")
        #expect(try Self.environment(of: switched)[PrimaryDesignation.environmentKey] == "ha-postgresql-2")
    }

    @Test func replicationIsRefusedOnComponentsWithoutAPrimary() throws {
        let qdrant = try Addon.qdrant.objects().definition
        let pgvector = try Addon.pgvector.objects().definition
        var cluster = try exampleCluster("pgvector-cluster.yaml", name: "ha")
        cluster.spec.componentSpecs[0].replication = ComponentReplication(failoverDelaySeconds: 30)
        #expect(cluster.validate(definition: pgvector).isEmpty)
        cluster.spec.componentSpecs[0].replication = ComponentReplication(failoverDelaySeconds: -1)
        #expect(cluster.validate(definition: pgvector).map(\.field) == ["spec.componentSpecs[0].replication.failoverDelaySeconds"])
        var onQdrant = try exampleCluster("qdrant-cluster.yaml", name: "vectors")
        onQdrant.spec.componentSpecs[0].replication = ComponentReplication()
        let errors = onQdrant.validate(definition: qdrant)
        #expect(errors.map(\.field) == ["spec.componentSpecs[0].replication"])
        #expect(errors.first?.description.contains("remove replication") == true)
    }

    static func environment(of cluster: Cluster) throws -> [String: String] {
        let addon = try Addon.pgvector.objects()
        var templates: [String: CoreV1.ConfigMap] = [:]
        for configMap in addon.configMaps {
            templates["\(configMap.metadata?.namespace ?? "")/\(configMap.metadata?.name ?? "")"] = configMap
        }
        let input = ClusterBuildInput(
            cluster: cluster.withDefaults(), definition: addon.definition.withDefaults(), version: addon.version,
            credential: ["username": "postgres", "password": "p"], templates: templates)
        let objects = try ClusterObjectsBuilder.objects(input)
        let environment = try #require(objects.first { $0.name == "ha-postgresql-env" })
        return try environment.body.decode(as: CoreV1.ConfigMap.self).data ?? [:]
    }
}
